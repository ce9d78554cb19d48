def run_with_time_limit(target, args, seconds):
    p = mp.Process(target=target, args=args)
    p.start()
    p.join(seconds)
    if p.is_alive():
        p.terminate()
    return p.exitcode
