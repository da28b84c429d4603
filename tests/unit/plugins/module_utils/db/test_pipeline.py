"""The pipeline runner with real processes: pipefail semantics, output
hashing, and which stage is blamed."""
import hashlib
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage


def _run(stages, tmp_path, source=None):
    out = tmp_path / 'out'
    fd = os.open(str(out), os.O_WRONLY | os.O_CREAT, 0o600)
    pipe = Pipeline(stages, source=source)
    try:
        size, digest = pipe.relay_to(fd)
    finally:
        os.close(fd)
    pipe.wait()
    return size, digest, out.read_bytes(), pipe


def test_output_is_relayed_and_hashed(tmp_path):
    size, digest, data, pipe = _run([Stage(['printf', 'hello world']), Stage(['gzip', '-c'])], tmp_path)
    assert size == len(data) and digest == hashlib.sha256(data).hexdigest()
    assert [s['exit'] for s in pipe.report()] == [0, 0]


def test_a_failing_first_stage_fails_the_pipeline_like_pipefail(tmp_path):
    with pytest.raises(PipelineError) as err:
        _run([Stage(['sh', '-c', 'echo partial; echo "pg_dump: error: connection lost" >&2; exit 1'],
                    label='pg_dump'), Stage(['gzip', '-c'])], tmp_path)
    assert 'pg_dump failed (exit 1): pg_dump: error: connection lost' in err.value.msg


def test_a_failed_first_stage_stops_the_pipeline_at_once(tmp_path):
    # zstd -19 went on compressing what a failed pg_dump had sent for minutes on a
    # busy machine; the pipeline now kills what still runs once pg_dump has failed.
    import time
    started = time.monotonic()
    with pytest.raises(PipelineError) as err:
        _run([Stage(['sh', '-c', 'echo partial; echo "pg_dump: error: terminating connection" >&2; exit 1'],
                    label='pg_dump'),
              Stage(['sh', '-c', 'cat >/dev/null; sleep 30; echo compressed'], label='zstd')], tmp_path)
    assert time.monotonic() - started < 10
    assert err.value.msg.startswith('pg_dump failed (exit 1): pg_dump: error: terminating connection')
    assert [(s['program'], s['exit']) for s in err.value.details['stages']] == [('pg_dump', 1), ('zstd', -9)]


def test_the_stage_that_broke_the_pipe_is_blamed_not_its_victim(tmp_path):
    with pytest.raises(PipelineError) as err:
        _run([Stage(['yes'], label='producer'), Stage(['sh', '-c', 'head -c 10 >/dev/null; echo disk gone >&2; '
                                                                   'exit 3'], label='writer')], tmp_path)
    assert err.value.msg.startswith('writer failed (exit 3): disk gone')


def test_source_file_feeds_the_first_stage(tmp_path):
    src = tmp_path / 'in'
    src.write_bytes(b'abc' * 1000)
    size, digest, data, pipe = _run([Stage(['cat'])], tmp_path, source=str(src))
    assert data == b'abc' * 1000


def test_missing_program_is_named(tmp_path):
    with pytest.raises(PipelineError) as err:
        Pipeline([Stage(['no-such-program-here'])]).start()
    assert 'cannot run no-such-program-here' in err.value.msg
