# Deliberately the reference answer with one change: the block is closed but never unlinked, so it
# outlives the function. The rest repeats the reference on purpose, so that this answer differs
# from it in that one way only.
def squares_in_shared_memory(size, processes):
    block = shared_memory.SharedMemory(create=True, size=max(1, size * 8))
    cuts = [size * k // processes for k in range(processes + 1)]
    workers = [
        mp.Process(target=filling.fill_part, args=(block.name, size, cuts[k], cuts[k + 1]))
        for k in range(processes)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    array = np.ndarray((size,), dtype=np.int64, buffer=block.buf)
    result = array.tolist()
    del array
    block.close()
    return result
