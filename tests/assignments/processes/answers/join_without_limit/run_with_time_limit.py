def run_with_time_limit(target, args, seconds):
    p = mp.Process(target=target, args=args)
    p.start()
    p.join()
    return p.exitcode
