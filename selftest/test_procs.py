"""procs.usable_cpus: how many job slots a grading container really has.

Each test builds a small fake /proc/self/cgroup and cgroup tree, laid out as Linux does
for cgroup v2, for cgroup v1 and for a container that sees its own cgroup as the root.
"""

import os

from dojo import procs


def affinity():
    return len(os.sched_getaffinity(0))


def fake(tmp_path, cgroup_lines, files):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text("".join(line + "\n" for line in cgroup_lines))
    root = tmp_path / "cgroup"
    root.mkdir()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return procs.usable_cpus(proc, root)


def test_without_a_quota_the_affinity_decides(tmp_path):
    got = fake(tmp_path, ["0::/job"], {"job/cpu.max": "max 100000\n", "cpu.max": "max 100000\n"})
    assert got == affinity(), f"usable_cpus() with cpu.max 'max' gave {got}, expected the affinity"


def test_a_cgroup_v2_quota_caps_the_count_rounded_up_to_whole_cpus(tmp_path):
    # docker --cpus 0.5: a pool of one job, never zero
    got = fake(tmp_path, ["0::/job"], {"job/cpu.max": "50000 100000\n"})
    assert got == 1, f"usable_cpus() under a half-CPU quota gave {got}, expected 1"


def test_the_tightest_quota_on_the_way_to_the_root_wins(tmp_path):
    files = {"cpu.max": "max 100000\n", "class/cpu.max": "100000 100000\n", "class/job/cpu.max": "max 100000\n"}
    got = fake(tmp_path, ["0::/class/job"], files)
    assert got == 1, f"a parent cgroup limited to 1 CPU must bound its child; usable_cpus() gave {got}"


def test_a_cgroup_v1_cfs_quota_caps_the_count(tmp_path):
    files = {"cpu,cpuacct/job/cpu.cfs_quota_us": "100000\n", "cpu,cpuacct/job/cpu.cfs_period_us": "100000\n"}
    got = fake(tmp_path, ["4:memory:/job", "2:cpu,cpuacct:/job", "0::/"], files)
    assert got == 1, f"cpu.cfs_quota_us of one period gave {got} usable CPUs, expected 1"


def test_a_v1_quota_of_minus_one_means_no_limit(tmp_path):
    files = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    got = fake(tmp_path, ["1:cpu:/"], files)
    assert got == affinity(), f"cfs_quota_us -1 (no limit) gave {got}, expected the affinity"


def test_a_container_that_sees_its_cgroup_as_the_root_reads_the_root(tmp_path):
    # /proc/self/cgroup names the host's path, which the container has not mounted
    got = fake(tmp_path, ["0::/docker/0123abcd"], {"cpu.max": "100000 100000\n"})
    assert got == 1, f"a container's own cpu.max at the mount root gave {got}, expected 1"


def test_no_cgroup_information_falls_back_to_the_affinity(tmp_path):
    got = procs.usable_cpus(tmp_path / "missing", tmp_path / "also-missing")
    assert got == affinity()


def test_this_machine_has_at_least_one_usable_cpu():
    assert 1 <= procs.usable_cpus() <= (os.cpu_count() or 1)
