def exit_codes(target, args_list):
    codes = []
    for args in args_list:
        p = mp.Process(target=target, args=args)
        p.start()
        p.join()
        codes.append(p.exitcode)
    return codes
