"""partition + combine of a 1000-leaf model: noxjax against a flatten-with-path
round trip and against equinox.partition + equinox.combine.

    python benchmarks/filter.py
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

import noxjax as nox
from _timing import best_seconds, print_table


class NoxLinear(nox.Module):
    w: jax.Array
    b: jax.Array


class EqxLinear(eqx.Module):
    w: jax.Array
    b: jax.Array


def main() -> None:
    rows = []
    for n_layers in (50, 500):
        w, b = jnp.ones((4, 4)), jnp.zeros(4)
        nox_model = nox.Sequential([NoxLinear(w, b) for _ in range(n_layers)])
        eqx_model = eqx.nn.Sequential([EqxLinear(w, b) for _ in range(n_layers)])
        is_w = lambda path, leaf: path[-1].name == "w"  # noqa: E731

        def raw() -> object:
            leaves, treedef = jtu.tree_flatten_with_path(nox_model)
            return jtu.tree_unflatten(treedef, [x for _, x in leaves])

        def nox_glob() -> object:
            return nox.combine(*nox.partition(nox_model, "**.w"))

        def nox_predicate() -> object:
            return nox.combine(*nox.partition(nox_model, is_w))

        spec = jax.tree.map(lambda x: x.ndim == 2, eqx_model)  # built once: equinox's best case

        def eqx_filter() -> object:
            return eqx.combine(*eqx.partition(eqx_model, spec))

        t_raw, t_glob, t_pred, t_eqx = map(best_seconds, (raw, nox_glob, nox_predicate, eqx_filter))
        rows.append([2 * n_layers, t_raw * 1e6, t_glob * 1e6, t_glob / t_raw, t_pred / t_raw, t_eqx / t_glob])
    print_table(
        "partition + combine (goals: nox/raw <= 2, eqx/nox >= 2)",
        ["leaves", "raw us", "nox us", "nox glob/raw", "nox predicate/raw", "eqx/nox"],
        rows,
    )


if __name__ == "__main__":
    main()
