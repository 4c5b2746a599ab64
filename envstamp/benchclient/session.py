"""Asking the server: detection, provenance, the requests and the concurrency sweep.

Everything goes through the runner (``envstamp.runner.streaming.stream``), so a session can
be recorded and replayed.  Nothing here raises for what the server does: a request that
fails is a :class:`~envstamp.benchclient.figures.RequestFigures` with its ``failure``; a URL
where no known server answers is a :class:`Prepared` with ``failure`` set.

The order is the user's: :func:`prepare` (detect, ask for provenance, size the prompts,
run the warm-up requests), then the caller signs its manifest, then :func:`measure` runs
each test at each concurrency level.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.benchclient import apis, detect, figures, prompts, provenance
from envstamp.runner.streaming import StreamLimits, clock_reading, stream

if TYPE_CHECKING:
    from envstamp.runner.answer_types import StreamAnswer
    from envstamp.runner.base import Runner


@attrs.frozen
class BenchPlan:
    """What to measure, llama-bench style: every prompt length with every generation
    length, ``repetitions`` requests per client at each concurrency level."""

    url: str
    api: str | None = None
    model: str | None = None
    prompt_tokens: tuple[int, ...] = (512,)
    gen_tokens: tuple[int, ...] = (128,)
    repetitions: int = 3
    warmup: int = 1
    concurrency: tuple[int, ...] = (1,)
    seed: int = 42
    limits: StreamLimits = attrs.field(factory=StreamLimits)
    allow_remote: bool = False

    @property
    def base(self) -> str:
        """The URL without a trailing slash (routes are appended)."""
        return self.url.rstrip("/")


@attrs.define
class Prepared:
    """What :func:`prepare` found: the server, the API, the model, the prompts' sizes."""

    plan: BenchPlan
    detected: detect.Detected
    api: str | None
    provenance: provenance.Provenance
    words: dict[int, int] = attrs.field(factory=dict)
    """Words per prompt length that give the asked tokens (calibrated where possible)."""
    warmups: list[figures.RequestFigures] = attrs.field(factory=list)
    failure: str | None = None
    requests_sent: int = 0


@attrs.define
class Level:
    """One test at one concurrency: its requests and the wall time they took together."""

    n_prompt: int
    n_gen: int
    concurrency: int
    requests: list[figures.RequestFigures]
    wall_s: float

    @property
    def name(self) -> str:
        """The result's name: the test, as llama-bench names its tests."""
        return f"pp{self.n_prompt}+tg{self.n_gen}"


# ----------------------------------------------------------------------------- asking


def _get(runner: Runner, plan: BenchPlan, path: str) -> detect.Probed | None:
    limits = attrs.evolve(plan.limits, first_byte_s=min(plan.limits.first_byte_s, 10.0))
    answer = stream(
        runner, plan.base + path, method="GET", limits=limits, allow_remote=plan.allow_remote
    )
    return _probed(answer)


def _post(runner: Runner, plan: BenchPlan, path: str, body: object) -> detect.Probed | None:
    data = json.dumps(body, separators=(",", ":")).encode()
    answer = stream(runner, plan.base + path, body=data, limits=plan.limits,
                    allow_remote=plan.allow_remote)
    return _probed(answer)


def _probed(answer: StreamAnswer) -> detect.Probed | None:
    if answer.get("status") != "ok":
        return None
    text = "\n".join(str(line[1]) for line in answer.get("lines", []))
    return detect.Probed(answer.get("code"), text, dict(answer.get("headers", {})))


def prepare(plan: BenchPlan, runner: Runner) -> Prepared:
    """Detect the server, ask what served it, size the prompts and run the warm-ups."""
    answers: dict[str, detect.Probed] = {}
    unreachable = None
    for path in detect.PROBE_PATHS:
        probed = _get(runner, plan, path)
        if probed is not None:
            answers[path] = probed
        elif path == detect.PROBE_PATHS[0]:
            unreachable = _first_failure(runner, plan)
            break
    found = detect.detect(answers)
    prov = provenance.Provenance(url=plan.base, server=found.server)
    prepared = Prepared(plan, found, plan.api or found.api, prov)
    if unreachable is not None:
        prepared.failure = f"nothing answered at {plan.base}: {unreachable}"
        return prepared
    if prepared.api is None:
        prepared.failure = (
            f"no known server answered at {plan.base} ({found.evidence}); name its API with "
            "--api " + "|".join(apis.APIS)
        )
        return prepared
    prov.version = detect.server_version(found.server, answers)
    prov.model = plan.model or _default_model(runner, plan, found)
    _ask_provenance(runner, plan, prepared, answers)
    for n_prompt in plan.prompt_tokens:
        prepared.words[n_prompt] = _calibrated_words(runner, plan, prepared, n_prompt)
    for index in range(plan.warmup):
        n_prompt, n_gen = plan.prompt_tokens[0], plan.gen_tokens[0]
        prepared.requests_sent += 1
        result, reading = _request(
            runner, prepared, n_prompt, n_gen, tag=f"warmup/{index}", index=prepared.requests_sent
        )
        prepared.warmups.append(result)
        if reading is not None and prov.server == "lmstudio":
            provenance.from_lmstudio(prov, answers.get("/api/v0/models"), reading.extra)
    return prepared


def _first_failure(runner: Runner, plan: BenchPlan) -> str:
    answer = stream(runner, plan.base + detect.PROBE_PATHS[0], method="GET",
                    limits=plan.limits, allow_remote=plan.allow_remote)
    return str(answer.get("detail") or answer.get("status"))


def _default_model(runner: Runner, plan: BenchPlan, found: detect.Detected) -> str | None:
    """The model to ask for when none was named: Ollama's loaded one (else its first
    installed one), or the first one a server lists."""
    if found.server == "ollama":
        for path in ("/api/ps", "/api/tags"):
            data = _json(_get(runner, plan, path))
            models = data.get("models") if isinstance(data, dict) else None
            if isinstance(models, list):
                for entry in models:
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        return str(entry["name"])
        return None
    return found.models[0] if found.models else None


def _json(probed: detect.Probed | None) -> Any:
    return probed.json() if probed is not None else None


def _ask_provenance(
    runner: Runner, plan: BenchPlan, prepared: Prepared, answers: dict[str, detect.Probed]
) -> None:
    prov = prepared.provenance
    if prov.server in apis.LLAMA_SERVERS:
        provenance.from_props(prov, answers.get("/props"))
    elif prov.server == "ollama":
        show = _post(runner, plan, "/api/show", {"model": prov.model}) if prov.model else None
        provenance.from_ollama(
            prov,
            ps=_get(runner, plan, "/api/ps"),
            show=show,
            tags=_get(runner, plan, "/api/tags"),
        )
    elif prov.server == "lmstudio":
        provenance.from_lmstudio(prov, answers.get("/api/v0/models"), {})
    elif prov.server is None:
        prov.notes.append("the server was not recognised; --api " + str(prepared.api))


def _calibrated_words(runner: Runner, plan: BenchPlan, prepared: Prepared, n_prompt: int) -> int:
    """Words that make ``n_prompt`` tokens: measured with llama-server's ``/tokenize`` where
    there is one (two corrections), else one word per token."""
    words = n_prompt
    if prepared.provenance.server not in apis.LLAMA_SERVERS or n_prompt <= 0:
        return words
    for _ in range(2):
        text = prompts.make_prompt(words, seed=plan.seed, request=0)
        # Counted as the server counts a prompt: with its BOS token (llama-bench's pp512 is
        # 512 tokens, BOS included).
        data = _json(_post(runner, plan, "/tokenize", {"content": text, "add_special": True}))
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list) or not tokens:
            return words
        if len(tokens) == n_prompt:
            return words
        words = prompts.corrected_words(n_prompt, words, len(tokens))
    return words


def _request(
    runner: Runner, prepared: Prepared, n_prompt: int, n_gen: int, *, tag: str, index: int
) -> tuple[figures.RequestFigures, apis.StreamReading | None]:
    """One streamed request (the ``index``-th of the session: its prompt's first word);
    its figures (or failure) and what its stream said."""
    plan = prepared.plan
    assert prepared.api is not None
    prompt = prompts.make_prompt(prepared.words.get(n_prompt, n_prompt), seed=plan.seed,
                                 request=index)
    spec = apis.build_request(
        prepared.api, prompt=prompt, n_gen=n_gen, seed=plan.seed,
        model=prepared.provenance.model, server=prepared.provenance.server,
    )
    answer = stream(runner, plan.base + spec.path, body=spec.encoded(), limits=plan.limits,
                    allow_remote=plan.allow_remote, tag=tag)
    return judge(prepared.api, answer, n_prompt)


def judge(
    api: str, answer: StreamAnswer, n_prompt: int
) -> tuple[figures.RequestFigures, apis.StreamReading | None]:
    """A stream answer read per its API: figures, or the failure that stops them."""
    lines = answer.get("lines", [])
    if answer.get("status") != "ok":
        failure = str(answer.get("failure") or answer.get("status"))
        return figures.failed_request(failure, answer.get("detail")), None
    code = answer.get("code")
    if code is None or not 200 <= code < 300:
        body = " ".join(str(line[1]) for line in lines)[:200]
        return figures.failed_request("http_status", f"HTTP {code}: {body}".strip()), None
    reading = apis.read_stream(api, lines)
    if reading.error is not None:
        return figures.failed_request(reading.error_kind or "malformed", reading.error), reading
    result = figures.request_figures(
        reading, total_s=answer.get("total_s"), prompt_tokens_asked=n_prompt
    )
    return result, reading


# ---------------------------------------------------------------------------- measuring


def measure(prepared: Prepared, runner: Runner) -> Iterator[Level]:
    """Each test (prompt length x generation length) at each concurrency level."""
    plan = prepared.plan
    for n_prompt in plan.prompt_tokens:
        for n_gen in plan.gen_tokens:
            for clients in plan.concurrency:
                yield run_level(prepared, runner, n_prompt, n_gen, clients)


def run_level(
    prepared: Prepared, runner: Runner, n_prompt: int, n_gen: int, clients: int
) -> Level:
    """``clients`` threads, each sending ``repetitions`` requests one after another."""
    plan = prepared.plan
    results: list[tuple[int, figures.RequestFigures]] = []
    lock = threading.Lock()
    total = plan.repetitions * clients
    counter = iter(range(total))
    # Each request's number (and so its prompt) is fixed before any thread runs: a replay
    # asks for the same prompts whatever order the threads ran in.
    first_index = prepared.requests_sent + 1
    prepared.requests_sent += total
    began = time.perf_counter()

    def worker() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            sent = time.perf_counter() - began
            tag = f"pp{n_prompt}+tg{n_gen}/c{clients}/{number}"
            result, _ = _request(
                runner, prepared, n_prompt, n_gen, tag=tag, index=first_index + number
            )
            result.started_s = sent
            with lock:
                results.append((number, result))

    _in_threads(worker, clients)
    wall = time.perf_counter() - began
    ordered = [result for _, result in sorted(results, key=lambda item: item[0])]
    # The level's clock is recorded and replayed with its requests' answers.
    clock = clock_reading(
        runner,
        f"pp{n_prompt}+tg{n_gen}/c{clients}",
        {"wall_s": wall, "started_s": [r.started_s for r in ordered]},
    )
    if len(clock["started_s"]) == len(ordered):
        for result, started in zip(ordered, clock["started_s"], strict=True):
            result.started_s = started
    return Level(n_prompt, n_gen, clients, ordered, clock["wall_s"])


def _in_threads(work: Callable[[], None], count: int) -> None:
    if count <= 1:
        work()
        return
    threads = [threading.Thread(target=work, name=f"envstamp-bench-{i}", daemon=True)
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
