"""Every option of every command is checked at the edge: a bad value is one line,
``rag: error: ...``, exit code 1, before anything is loaded (fast: no index is opened).
A malformed command line (an unknown flag) is one line too, with exit code 2."""

from __future__ import annotations

import pytest

from rag.app.cli import build_parser, main

BAD = [
    # the options shared by every command
    (["sources", "--data-dir", ""], "--data-dir is empty"),
    (["sources", "--data-dir", "{file}"], "is a file, not a folder"),
    (["sources", "--chroma-url", "localhost:8000"], "--chroma-url 'localhost:8000' must start with http://"),
    (["sources", "--chroma-url", "http://127.0.0.1:port"], "must start with http://"),
    # ingest
    (["ingest", "--chroma-url", "ftp://x"], "must start with http://"),
    (["ingest", "/no/such/folder"], "no such file or folder: /no/such/folder"),
    (["ingest", "ftp://news.example/feed"], "only http:// and https:// URLs are fetched"),
    (["ingest", "https:///feed"], "only http:// and https:// URLs are fetched"),
    # extract
    (["extract", "/no/such/page.html"], "no such file or folder: /no/such/page.html"),
    (["extract", "file:///etc/passwd"], "only http:// and https:// URLs are fetched"),
    # watch
    (["watch", "--every", "soon"], "--every takes an interval such as 30s, 15m or 2h"),
    (["watch", "--every", "0m"], "--every takes an interval"),
    (["watch", "--cycles", "0"], "--cycles must be a positive whole number"),
    (["watch", "/no/such/folder"], "no such file or folder"),
    # search and the filters
    (["search", "q", "--k", "0"], "--k must be a positive whole number, got '0'"),
    (["search", "q", "--k", "-1"], "--k must be a positive whole number, got '-1'"),
    (["search", "q", "--k", "five"], "--k must be a positive whole number, got 'five'"),
    (["search", "q", "--since", "soon"], "not a date: 'soon'"),
    (["search", "q", "--until", "2024-13"], "not a date: '2024-13'"),
    (["search", "q", "--outlet", " "], "--outlet is empty"),
    # ask and the model options
    (["ask", "q", "--n-ctx", "0"], "--n-ctx must be a positive whole number"),
    (["ask", "q", "--threads", "0"], "--threads must be a positive whole number"),
    (["ask", "q", "--threads", "-2"], "--threads must be a positive whole number"),
    (["ask", "q", "--max-tokens", "0"], "--max-tokens must be a positive whole number"),
    (["ask", "q", "--model", "/no/such/model.gguf"], "model file not found: /no/such/model.gguf"),
    (["ask", "q", "--model", "gpt-9"], "unknown model 'gpt-9': known models are qwen2.5-coder-1.5b, smollm2"),
    (["ask", "q", "--llm-url", "ftp://example"], "must start with http:// or https://"),
    (["ask", "q", "--since", "yesterday"], "not a date"),
    # check
    (["check", " "], "the claim is empty"),
    (["check"], "give a claim, or --batch FILE"),
    (["check", "a claim", "--batch", "{file}"], "give a claim, or --batch FILE (not both)"),
    (["check", "--batch", "/no/such/claims.txt"], "claims file not found: /no/such/claims.txt"),
    (["check", "a claim", "--since", "later"], "not a date"),
    # remove
    (["remove", " "], "the article id is empty"),
    # brief
    (["brief", "--words", "0"], "--words must be a positive whole number"),
    (["brief", "--event", ""], "--event is empty"),
    (["brief", "--out", "/no/such/folder/brief.md"], "the folder does not exist"),
    (["brief", "--since", "last week"], "not a date: 'last week'"),
    (["brief", "--until", "2010-13"], "not a date: '2010-13'"),
    (["brief", "--since", "2010-03-02", "--until", "2010-03-01"], "--since 2010-03-02 is after --until 2010-03-01"),
    (["brief", "--since", "2010-03", "--event", "abc"], "--event and --since/--until do not go together"),
    # eval
    (["eval", "--limit", "0"], "--limit must be a positive whole number"),
    (["eval", "--gold", "/no/such/gold.jsonl"], "gold file not found: /no/such/gold.jsonl"),
    (["eval", "--baseline", "/no/such/report.json"], "baseline report not found"),
    (["eval", "--briefings", "--words", "-5"], "--words must be a positive whole number"),
    (["eval", "--briefings", "--corpus", "/no/such/corpus"], "corpus folder not found: /no/such/corpus"),
    # serve
    (["serve", "--port", "99999"], "--port must be a port number from 1 to 65535, got '99999'"),
    (["serve", "--port", "0"], "--port must be a port number from 1 to 65535"),
    (["serve", "--port", "http"], "--port must be a port number from 1 to 65535"),
    (["serve", "--host", ""], "--host is empty"),
    (["serve", "--auth", "no-colon"], "--auth (or RAG_AUTH) must look like user:password"),
    (["serve", "--auth", ":secret"], "must look like user:password"),
    # bench
    (["bench", "--sizes", "1k,2k"], "--sizes takes positive numbers separated by commas"),
    (["bench", "--sizes", "0"], "--sizes takes positive numbers"),
    (["bench", "--questions", "0"], "--questions must be a positive whole number"),
    (["bench", "--corpus", "/no/such/corpus"], "corpus folder not found: /no/such/corpus"),
    # models
    (["models", "gpt-9"], "unknown model 'gpt-9': known models are"),
    (["models", "--verify", "smollm2", "qwen-7b"], "unknown model 'qwen-7b'"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_a_bad_option_is_one_line_before_any_work(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "never-created"))
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    argv = [str(a_file) if a == "{file}" else a for a in argv]
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error: "), captured.err
    assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "never-created").exists(), "the index was opened"


def test_every_command_is_covered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == {argv[0] for argv, _ in BAD}


@pytest.mark.parametrize("argv", [["search", "q", "--no-such-flag"], ["serve", "extra"], ["frobnicate"]])
def test_a_malformed_command_line_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error: "), lines


def test_good_values_pass():
    args = build_parser().parse_args(["search", "q", "--k", "3", "--since", "2024-08"])
    assert args.k == 3 and args.since == "2024-08"
    args = build_parser().parse_args(["serve", "--port", "65535", "--auth", "ann:pw:x"])
    assert args.port == 65535 and args.auth == "ann:pw:x"
    args = build_parser().parse_args(["bench", "--sizes", "500, 2000"])
    assert args.sizes == [500, 2000]
