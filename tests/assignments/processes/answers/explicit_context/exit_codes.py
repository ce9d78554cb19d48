def exit_codes(target, args_list):
    ctx = mp.get_context()
    started = []
    for args in args_list:
        p = ctx.Process(target=target, args=tuple(args), daemon=True)
        p.start()
        started.append(p)
    codes = []
    for p in started:
        p.join(timeout=30)
        codes.append(p.exitcode)
    return codes
