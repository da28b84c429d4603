"""Shell-free pipelines with per-process peak memory.

Every stage runs under GNU time (/usr/bin/time -f '%M %U %S'), its stdout
piped into the next. %M is the stage's ru_maxrss from wait4: the largest of the process
and of the children it waited for, so pg_dump -j workers count in pg_dump's
figure. The wrapper matters: Linux carries the forking parent's peak RSS
across exec, so a stage spawned straight from this Python process would never
report less than the ~27 MB of the interpreter; under time the floor is ~1 MB.
The pipeline's peak is reported as the sum of its stages' peaks, an upper
bound since they run at the same time. %U + %S, the CPU seconds of each stage
(and of its waited-for children), do not depend on what else the machine runs,
unlike wall time."""
import os
import subprocess
import tempfile
import time

TIME = '/usr/bin/time'  # GNU time


class PipelineError(Exception):
    pass


def run(stages, stdin=None, stdout=None, env=None):
    """Run ``stages`` (argv lists) as stage1 | stage2 | ...; ``stdin`` and
    ``stdout`` are file paths (default /dev/null). Returns (wall seconds,
    [peak RSS in kB per stage], [CPU seconds per stage]); raises
    PipelineError if any stage fails."""
    procs, errs, rss_files = [], [], []
    source = open(stdin or os.devnull, 'rb')
    sink = open(stdout or os.devnull, 'wb')
    started = time.perf_counter()
    try:
        upstream = source
        for index, argv in enumerate(stages):
            last = index == len(stages) - 1
            err = tempfile.TemporaryFile()
            errs.append(err)
            rss = tempfile.NamedTemporaryFile(prefix='bench-rss-')
            rss_files.append(rss)
            proc = subprocess.Popen([TIME, '-f', '%M %U %S', '-o', rss.name] + argv, stdin=upstream,
                                    stdout=sink if last else subprocess.PIPE, stderr=err, env=env)
            if upstream is not source:
                upstream.close()  # the child holds it now; a dead reader must give the writer SIGPIPE
            upstream = proc.stdout
            procs.append(proc)
        peaks, cpus, failures = [], [], []
        for proc, err, argv, rss in zip(procs, errs, stages, rss_files):
            proc.wait()
            lines = rss.read().decode().strip().splitlines()  # a failed command's line comes first
            try:
                peak, user, system = lines[-1].split()
                peaks.append(int(peak))
                cpus.append(float(user) + float(system))
            except (IndexError, ValueError):
                peaks.append(0)
                cpus.append(0.0)
            if proc.returncode != 0:
                err.seek(0)
                failures.append('%s exited %d: %s' % (' '.join(argv), proc.returncode,
                                                      err.read().decode(errors='replace').strip()[-800:]))
        wall = time.perf_counter() - started
    finally:
        source.close()
        sink.close()
        for handle in errs + rss_files:
            handle.close()
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
    if failures:
        raise PipelineError('; '.join(failures))
    return wall, peaks, cpus


def size_of(path):
    """Bytes of a file, or of every file under a directory."""
    if path is None or path == os.devnull:
        return 0
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(top, name)) for top, dirs, names in os.walk(path) for name in names)
    return os.path.getsize(path)
