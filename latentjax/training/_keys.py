"""Purpose tags folded into a run's seed: one PRNG key stream per purpose.

    key = jax.random.fold_in(jax.random.PRNGKey(cfg.seed), TRAIN_KEY)
"""

INIT_KEY, TRAIN_KEY, EVAL_KEY, SAMPLE_KEY = 0, 1, 2, 3
