def deposit(balance, lock, amount, times):
    for _ in range(times):
        current = balance.value
        with lock:
            balance.value = current + amount
