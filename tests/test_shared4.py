def test_every_jobs_squares_reach_the_parent(kata, mp_context, teach):
    jobs = {"small": [1, 2, 3], "large": [10, 20]}
    got = kata.squares_by_job(mp_context, jobs)
    want = {"small": [1, 4, 9], "large": [100, 400]}
    assert got == want, teach("appends_lost", jobs=jobs, got=got, want=want)


def test_a_job_without_numbers_keeps_an_empty_list(kata, mp_context, teach):
    jobs = {"idle": [], "busy": [7]}
    got = kata.squares_by_job(mp_context, jobs)
    want = {"idle": [], "busy": [49]}
    # Name the first thing that is wrong: the lost appends, or else the empty job.
    key = "appends_lost" if not isinstance(got, dict) or got.get("busy") != [49] else "empty_job"
    assert got == want, teach(key, jobs=jobs, got=got, want=want)
