def run_with_time_limit(target, args, seconds):
    p = mp.get_context().Process(target=target, args=args)
    p.start()
    p.join(timeout=seconds)
    if p.exitcode is None:
        p.kill()
        p.join(timeout=10)
    return p.exitcode
