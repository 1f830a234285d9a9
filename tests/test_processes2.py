def test_every_child_has_an_id_of_its_own(kata, mp_context, teach):
    got = kata.family(mp_context, 2)
    pids = [child["pid"] for child in got["children"]]
    distinct = len(set(pids)) == 2 and got["pid"] not in pids
    assert distinct, teach("ids_not_distinct", n=2, pid=got["pid"], pids=pids)


def test_every_child_names_the_process_that_started_it_as_its_parent(kata, mp_context, host, teach):
    got = kata.family(mp_context, 2)
    reported = [child["parent"] for child in got["children"]]
    # The parent is checked against the host's PID as seen from outside, not only
    # against what the kata says about itself.
    want = [host.pid()] * 2
    assert reported == want and got["pid"] == host.pid(), teach(
        "wrong_parent", n=2, got=reported, want=want, pid=host.pid()
    )
