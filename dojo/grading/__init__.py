"""Grading: sealed kit, sandboxed runs, one result model and its exporters.

    dojo grade SUBMISSION --out DIR [--format F ...]
      submission.py   unpack a directory, zip or checkout safely; find the kata modules
      seal.py         the instructor's kit and its recorded hashes (release, check)
      sandbox.py      limits: wall, processes, memory, CPU, network, /dev/shm, uid
      grade.py        one submission: workspace, a judged run per kata, the model
      model.py        Grade -> KataGrade -> CellGrade / TestGrade, scoring
      export.py       the model as terminal text, JSON, JUnit XML, Gradescope, Classroom, CSV
      report.py       a class: CSV and a self-contained HTML report
      command.py      the ``dojo grade`` command (one submission, or --batch)
      release.py      ``dojo release`` and ``dojo export gradescope|classroom``
"""
