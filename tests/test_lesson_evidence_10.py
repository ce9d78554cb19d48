"""What lesson 10 and helpers.tasks.scale claim, checked by behaviour (never by wall-clock speed).

One real cluster (``dask scheduler`` and ``dask worker --nworkers 2``, separate processes on
127.0.0.1) is started for the module, as the lesson starts it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import urllib.request

import cloudpickle
import psutil
import pytest
from distributed import Client

from helpers.tasks import scale, workers

pytestmark = pytest.mark.xdist_group("dask-cluster")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = scale.start_dask_processes(tmp_path_factory.mktemp("dask"), nworkers=2)
    yield started
    started.stop()


@pytest.fixture
def client(cluster):
    with Client(cluster.address, timeout="20s", set_as_default=False) as c:
        yield c


def test_the_cluster_is_separate_processes_on_localhost(cluster, client):
    assert cluster.address.startswith("tcp://127.0.0.1:")
    me = os.getpid()
    worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2 and me not in worker_pids
    assert cluster.scheduler.pid not in worker_pids
    # the workers are children of the `dask worker` command, not of this process
    command = psutil.Process(cluster.workers.pid)
    assert worker_pids <= {p.pid for p in command.children(recursive=True)}
    assert psutil.Process(cluster.scheduler.pid).ppid() == me


def test_the_dashboard_answers(cluster, client):
    port = cluster.info["services"]["dashboard"]  # missing when bokeh is not installed
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=20) as response:
        assert response.status == 200
    assert str(port) in client.dashboard_link


def test_the_same_task_gives_the_same_answers(client):
    limits = [10_000, 20_000, 30_000, 40_000]
    futures = client.map(workers.count_primes, limits)
    total = client.submit(sum, futures)
    assert client.gather(futures) == [workers.count_primes(n) for n in limits]
    assert total.result(timeout=60) == sum(workers.count_primes(n) for n in limits)


def test_identical_calls_are_one_task_unless_impure(client):
    same = [client.submit(workers.count_primes, 5_000) for _ in range(2)]
    assert same[0].key == same[1].key
    impure = [client.submit(workers.count_primes, 5_000, pure=False) for _ in range(2)]
    assert impure[0].key != impure[1].key


def test_square_or_fail_reports_where_it_ran(client):
    worker_pids = set(client.run(os.getpid).values())
    square, pid = client.submit(scale.square_or_fail, 7).result(timeout=30)
    assert square == 49 and pid in worker_pids
    with pytest.raises(ValueError, match="negative"):
        client.submit(scale.square_or_fail, -2).result(timeout=30)


def test_a_crashed_worker_is_replaced_and_its_task_rerun(client, tmp_path):
    before = set(client.run(os.getpid).values())
    marker = str(tmp_path / "marker")
    assert client.submit(scale.crash_once, 6, marker).result(timeout=90) == 36
    client.wait_for_workers(2, timeout=60)
    after = set(client.run(os.getpid).values())
    assert len(after) == 2 and len(before & after) == 1  # exactly one worker was replaced


def test_crash_once_ends_its_process_the_first_time_only(tmp_path):
    marker = str(tmp_path / "marker")
    p = mp.get_context().Process(target=scale.crash_once, args=(3, marker))
    p.start()
    p.join(30)
    assert p.exitcode == 1 and os.path.exists(marker)
    assert scale.crash_once(3, marker) == 9


def test_functions_from_the_package_travel_by_name():
    assert b"helpers.tasks.workers" in cloudpickle.dumps(workers.count_primes)
    assert len(cloudpickle.dumps(workers.count_primes)) < 100


def test_read_scheduler_file_waits_for_a_complete_file(tmp_path):
    path = tmp_path / "scheduler.json"
    with pytest.raises(TimeoutError):
        scale.read_scheduler_file(path, timeout=0.3)
    path.write_text('{"address": "tcp://127.0.0.1:1"')  # half written: not JSON yet
    with pytest.raises(TimeoutError):
        scale.read_scheduler_file(path, timeout=0.3)
    path.write_text('{"address": "tcp://127.0.0.1:1"}')
    assert scale.read_scheduler_file(path)["address"] == "tcp://127.0.0.1:1"


def test_stop_leaves_no_process_behind(tmp_path):
    started = scale.start_dask_processes(tmp_path, nworkers=1)
    pids = [started.scheduler.pid, started.workers.pid]
    with Client(started.address, timeout="20s", set_as_default=False) as c:
        pids += list(c.run(os.getpid).values())
    assert started.stop() == [0, 0]
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass  # already gone
    _, alive = psutil.wait_procs(procs, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
