def exit_codes(target, args_list):
    started = [mp.Process(target=target, args=args) for args in args_list]
    for p in started:
        p.start()
    return [p.exitcode for p in started]
