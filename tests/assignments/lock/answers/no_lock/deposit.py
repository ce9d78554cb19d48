def deposit(balance, lock, amount, times):
    for _ in range(times):
        balance.value += amount
