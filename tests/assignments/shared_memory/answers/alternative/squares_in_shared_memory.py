def squares_in_shared_memory(size, processes):
    block = shared_memory.SharedMemory(create=True, size=max(8, 8 * size))
    step = -(-size // processes) if size else 1
    workers = []
    for start in range(0, size, step):
        p = mp.Process(
            target=filling.fill_part, args=(block.name, size, start, min(size, start + step))
        )
        p.start()
        workers.append(p)
    for p in workers:
        p.join(timeout=60)
    result = [int(x) for x in np.frombuffer(block.buf, dtype=np.int64, count=size)]
    block.close()
    block.unlink()
    return result
