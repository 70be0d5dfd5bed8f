"""The decision engine: self-host or API, per workload, chosen jointly and explained.

    types.py     what was decided, as the Plan carries it
    options.py   every option of every workload, priced and judged eligible (decide/eligibility.py)
    solve.py     the joint choice as a MILP (HiGHS through scipy.optimize.milp)
    decision.py  `decide` and `resolve`: the explanation (marginal costs, runner-up, break-even) and
                 the spec it resolves to

Import from the modules (this package imports nothing, so the Plan's types stay free of cycles).
"""
