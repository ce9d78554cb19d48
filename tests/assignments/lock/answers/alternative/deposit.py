def deposit(balance, lock, amount, times):
    done = 0
    while done < times:
        lock.acquire()
        try:
            current = balance.value
            balance.value = current + amount
        finally:
            lock.release()
        done += 1
