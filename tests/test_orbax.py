"""noxjax trees in orbax checkpoints (noxjax/orbax.py), on one device."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ocp = pytest.importorskip("orbax.checkpoint", minversion="0.12")
import equinox as eqx  # noqa: E402
import optax  # noqa: E402

import noxjax as nox  # noqa: E402
import noxjax.orbax  # noqa: E402
from models import Linear  # noqa: E402


def _state() -> dict[str, Any]:
    model = {"layers": [Linear.init(jax.random.key(i), 3, 3) for i in range(2)]}
    optimizer = optax.adamw(1e-3, mask=nox.labeler({True: ".w", False: "**"}))
    return {"model": model, "opt": optimizer.init(model), "step": 7, "key": jax.random.key(3)}


def _assert_same(a: Any, b: Any) -> None:
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        if jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        assert type(x) is type(y) or (isinstance(x, jax.Array) and isinstance(y, jax.Array))
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        assert getattr(x, "dtype", None) == getattr(y, "dtype", None)


def test_a_training_state_round_trips_with_its_statics(tmp_path: Path) -> None:
    state = _state()
    noxjax.orbax.save(tmp_path / "ckpt", state, metadata={"lr": 1e-3})
    loaded = noxjax.orbax.load(tmp_path / "ckpt")
    _assert_same(loaded, state)
    assert loaded["model"]["layers"][0].activation == "relu" and loaded["step"] == 7
    noxjax.orbax.save(tmp_path / "ckpt", {"step": 8})  # replaces the checkpoint
    assert noxjax.orbax.load(tmp_path / "ckpt") == {"step": 8}


def test_checkpoint_manager_saves_asynchronously_and_restores(tmp_path: Path) -> None:
    state = _state()
    with ocp.CheckpointManager(tmp_path, options=ocp.CheckpointManagerOptions(max_to_keep=2)) as manager:
        for step in (1, 2, 3):
            manager.save(step, args=noxjax.orbax.Save({**state, "step": step}, metadata={"step": step}))
        manager.wait_until_finished()
        assert manager.all_steps() == [2, 3]
        restored = manager.restore(3, args=noxjax.orbax.Restore())
    _assert_same(restored, {**state, "step": 3})


def test_registered_pytrees_of_other_libraries_restore_through_like(tmp_path: Path) -> None:
    model = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    noxjax.orbax.save(tmp_path / "ckpt", {"model": model})
    with pytest.raises(nox.FormatError, match=r"Linear.*pass like="):
        noxjax.orbax.load(tmp_path / "ckpt")
    like = {"model": eqx.nn.Linear(3, 2, key=jax.random.key(1))}
    loaded = noxjax.orbax.load(tmp_path / "ckpt", like=like)
    np.testing.assert_array_equal(loaded["model"].weight, model.weight)
    with pytest.raises(nox.FormatError, match=r"does not match like= at \['model'\]\.weight"):
        noxjax.orbax.load(tmp_path / "ckpt", like={"model": eqx.nn.Linear(4, 2, key=jax.random.key(1))})


def _plain_orbax(path: Path, custom: Any) -> None:
    with ocp.Checkpointer(ocp.StandardCheckpointHandler()) as checkpointer:
        checkpointer.save(path, args=ocp.args.StandardSave({"a0": jnp.ones(2)}, custom_metadata=custom))


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        (None, r"is not a noxjax orbax checkpoint: its metadata has no 'noxjax' header; save it with noxjax\.orbax"),
        ({"noxjax": 5}, r"no 'noxjax' header"),
        ({"noxjax": "not base64!"}, r"the noxjax header in the orbax metadata is not valid base64"),
        ({"noxjax": base64.b64encode(b"\xc1").decode()}, r"the header is not valid msgpack"),
        ({"noxjax": base64.b64encode(b"\x81\xa1x\x01").decode()}, r"the header lacks its 'tree' and 'arrays' keys"),
    ],
    ids=["plain-orbax", "not-a-string", "base64", "msgpack", "keys"],
)
def test_checkpoints_without_a_valid_header_are_format_errors(tmp_path: Path, custom: Any, message: str) -> None:
    _plain_orbax(tmp_path / "ckpt", custom)
    with pytest.raises(nox.FormatError, match=message):
        noxjax.orbax.load(tmp_path / "ckpt")


def test_a_bad_array_entry_in_the_header_is_a_format_error(tmp_path: Path) -> None:
    import msgpack

    body = {"tree": {"t": "a", "i": 0}, "arrays": [{"path": "", "dtype": "float99", "shape": [2]}], "metadata": None}
    _plain_orbax(tmp_path / "ckpt", {"noxjax": base64.b64encode(msgpack.packb(body)).decode()})
    with pytest.raises(nox.FormatError, match=r"unknown dtype 'float99'"):
        noxjax.orbax.load(tmp_path / "ckpt")


def test_what_nox_save_refuses_orbax_refuses_before_writing(tmp_path: Path) -> None:
    with pytest.raises(nox.SaveError, match=r"cannot save \['f'\] = <function"):
        noxjax.orbax.save(tmp_path / "ckpt", {"f": lambda x: x})
    assert not (tmp_path / "ckpt").exists()


def test_an_old_orbax_is_refused_with_the_fix() -> None:
    noxjax.orbax._check_version("0.12.0")
    noxjax.orbax._check_version("1.0.dev1")
    noxjax.orbax._check_version("0.13rc1")
    with pytest.raises(ImportError, match=r"noxjax\.orbax needs orbax-checkpoint>=0\.12 \(found 0\.6\.4\); install it with pip install 'noxjax\[orbax\]'"):
        noxjax.orbax._check_version("0.6.4")


class Secret(nox.Module, name="tests.orbax.Secret"):
    w: jax.Array


def test_the_header_is_read_by_the_native_rules_nothing_is_imported(tmp_path: Path) -> None:
    import json

    noxjax.orbax.save(tmp_path / "ckpt", Secret(jnp.ones(2)))
    metadata_file = tmp_path / "ckpt" / "_METADATA"
    metadata = json.loads(metadata_file.read_text())
    header = base64.b64decode(metadata["custom_metadata"]["noxjax"])
    assert b"tests.orbax.Secret" in header
    forged = header.replace(b"tests.orbax.Secret", b"os.system:run_it__")  # same length: msgpack stays valid
    metadata["custom_metadata"]["noxjax"] = base64.b64encode(forged).decode()
    metadata_file.write_text(json.dumps(metadata))
    with pytest.raises(nox.FormatError, match=r"unknown module class 'os\.system:run_it__' at the root: noxjax never imports"):
        noxjax.orbax.load(tmp_path / "ckpt")
