def deposit(balance, lock, amount, times):
    with lock:
        for _ in range(times):
            balance.value += amount
