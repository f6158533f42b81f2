#!/usr/bin/env bash
# A newcomer's first hour, as a script (issue 13). Run by .ci/run after the tests; run it yourself with
#   bash tests/newcomer.sh
# It builds every sample, packs and installs the two dotnet tools (nanobanana, nanobanana-emulator) from a local
# feed, runs each CLI command with its output piped, talks to a standalone emulator from other processes, sends
# SIGINT to a running generate and to QuickStart, builds a new console app on the packed library packages with every
# C# block of the README, docs/ and the packages' READMEs as pasted (four run, seven compiled), feeds TieredBatch bad lines, runs the AspNetCore sample (an image,
# collected again by id after a caller went away and after a deadline passed) and feeds it a misspelled
# setting. Ends with "newcomer: N checks, N failed" and exits non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
unset NANOBANANA_API_KEY
set -m # background jobs keep SIGINT (a non-interactive shell would start them with SIGINT ignored)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
checks=0
failed=0

check() { # check "what" command...: passes when the command succeeds
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "  ok    $what"
  else
    echo "  FAIL  $what"
    failed=$((failed + 1))
  fi
}
has() { grep -qF -- "$2" "$1"; }                 # file contains text
lacks() { ! grep -qF -- "$2" "$1"; }             # file does not contain text
no_trace() { ! grep -qE '^ +at |Exception:|\(Parameter |Actual value was' "$1"; } # no .NET stack trace or tail
no_ansi() { ! grep -q $'\e\\[' "$1"; }
is() { [[ "$1" == "$2" ]]; }
# A shell started with SIGINT ignored (nohup, or a background job of a shell without job control) hands the ignore
# down, `trap - INT` cannot undo it, and .NET keeps an inherited ignore: the SIGINT checks would watch the job run to
# completion and exit 0. This runs a command with SIGINT back at its default, so it sees the signal a user sends.
sigint_default() {
  if env --default-signal=INT true 2>/dev/null; then exec env --default-signal=INT "$@"; fi
  exec python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
quiet() { # run a build step, show its output only when it fails
  "$@" >"$work/step.log" 2>&1 || { tail -40 "$work/step.log"; return 1; }
}
wait_for() { # wait_for FILE TEXT SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do grep -qF -- "$2" "$1" && return 0; sleep 0.1; done
  return 1
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

echo "== build every sample (warnings are errors)"
for project in samples/*/*.csproj; do
  check "build $project" quiet dotnet build "$project" -nologo
  # MSBuild's own warnings (a missing git remote for Source Link, say) are not compiler warnings, so
  # TreatWarningsAsErrors lets them through; a newcomer's first build should print none.
  # (On GitHub Actions Source Link is on, and a clone there has its remote.)
  [[ ${GITHUB_ACTIONS:-} == true ]] || check "  ... without a warning" grep -qE '^ +0 Warning\(s\)' "$work/step.log"
done

echo "== every 'dotnet run --project' in the docs can run as written"
# A project with two target frameworks makes 'dotnet run' stop and ask which: the README's command for the emulator tool
# (net10.0 and net8.0) did exactly that. Each command must name one of its project's frameworks when it has several.
check "each command names a framework its project has, where the project has several" python3 - <<'EOF'
import glob, re, sys
bad, seen = [], 0
for doc in ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("samples/*/README.md")) + sorted(glob.glob("src/*/README.md")):
    for cmd in re.findall(r"dotnet run [^`\n]*--project [^`\n]*", open(doc, encoding="utf-8").read()):
        seen += 1
        project = re.search(r"--project (\S+)", cmd).group(1)
        csproj = (glob.glob(f"{project}/*.csproj") or [project])[0]
        text = open(csproj, encoding="utf-8").read()
        many = re.search(r"<TargetFrameworks>([^<]*)</TargetFrameworks>", text)
        if many and ";" in many.group(1):
            chosen = re.search(r"(?:-f|--framework) (\S+)", cmd.split(" -- ")[0])
            if not chosen or chosen.group(1) not in many.group(1).split(";"):
                bad.append(f"{doc}: {cmd}")
print(f"{seen} commands read")
assert seen > 0 and not bad, "; ".join(bad)
EOF
check "  ... and the README's emulator command starts the emulator (--help)" quiet dotnet run --project src/NanoBanana.Emulator.Tool -f net10.0 -- --help

echo "== pack and install the tools from a local feed"
version="0.1.0-newcomer.$(date +%s)" # a fresh version, so no cached package of an older build is reused
for project in samples/Cli src/NanoBanana.Emulator.Tool; do
  check "pack $project" quiet dotnet pack "$project" -nologo -o "$work/feed" -p:Version="$version"
done
check "install NanoBanana.Cli" quiet dotnet tool install --tool-path "$work/tools" --add-source "$work/feed" NanoBanana.Cli --version "$version"
check "install NanoBanana.Emulator.Tool" quiet dotnet tool install --tool-path "$work/tools" --add-source "$work/feed" NanoBanana.Emulator.Tool --version "$version"
nb="$work/tools/nanobanana"
emu="$work/tools/nanobanana-emulator"
cd "$work" || exit 1

echo "== nanobanana-emulator on its own"
"$emu" --help >help.txt 2>&1
check "nanobanana-emulator --help exits 0 and lists --time-scale" is "$?" 0
check "  ... and names the tool" has help.txt "nanobanana-emulator"
"$emu" --port abc >bad.txt 2>&1
check "nanobanana-emulator --port abc exits 2" is "$?" 2
check "  ... naming the option and the allowed values" has bad.txt "--port must be a whole number from 0 to 65535 (got 'abc')"
check "  ... without a stack trace" no_trace bad.txt

echo "== every CLI command, output piped"
"$nb" models | cat >models.txt
check "models | cat exits 0" is "${PIPESTATUS[0]}" 0
check "  ... without ANSI colour codes" no_ansi models.txt
check "  ... with model ids unbroken" has models.txt "gemini-3.1-flash-image-preview"
"$nb" models --json >models.json
check "models --json is JSON with three models" is "$(json models.json 'len(d)')" 3
"$nb" route --faces 5 | cat >route.txt
check "route --faces 5 picks Pro" has route.txt "Chosen: Nano Banana Pro"
"$nb" generate "a portrait" --faces 5 | cat >faces.txt
check "generate --faces 5 without the images exits 2 (the option is honoured, not ignored)" is "${PIPESTATUS[0]}" 2
check "  ... and says which images are missing" has faces.txt "--faces 5 needs 5 face images"
"$nb" generate "" | cat >empty.txt
check "generate with an empty prompt exits 2" is "${PIPESTATUS[0]}" 2
check "  ... with a message and no .NET tail" no_trace empty.txt
check "  ... naming the prompt" has empty.txt "Prompt must not be empty"
"$nb" generate "x" --ratio 5:7 --json >ratio.json
check "generate --ratio 5:7 --json exits 2 with a JSON error" is "$(json ratio.json 'd["exitCode"]')" 2
"$nb" compare "x" --tiers Foo | cat >tiers.txt
check "compare --tiers Foo exits 2" is "${PIPESTATUS[0]}" 2
check "  ... naming the option and the allowed values" has tiers.txt "--tiers: 'Foo' is not a tier. Allowed: NanoBanana, NanoBanana2, NanoBananaPro."
"$nb" resume abc | cat >resume-nokey.txt
check "resume without a key exits 2" is "${PIPESTATUS[0]}" 2
check "  ... and explains how to run a standalone emulator" has resume-nokey.txt "nanobanana emulator"
"$nb" emulator --help | cat >emuhelp.txt
check "nanobanana emulator --help lists --time-scale" has emuhelp.txt "--time-scale"
check "  ... and points to nanobanana-emulator for the other settings" has emuhelp.txt "nanobanana-emulator"
"$nb" generate "a lighthouse at dusk" --out out --json >gen-builtin.json
check "generate without a key uses the built-in emulator and writes a PNG" test -s "$(json gen-builtin.json 'd["file"]')"

echo "== a standalone emulator, used from other processes"
"$emu" --port 0 --time-scale 0.3 >emu.txt 2>&1 &
emu_pid=$!
pids+=("$emu_pid")
check "nanobanana-emulator starts" wait_for emu.txt "listening on" 60
url=$(grep -o 'http://127.0.0.1:[0-9]*/api/v3/' emu.txt | head -1)
"$nb" generate "a red bicycle" --base-url "$url" --api-key local-key --out out --json >gen.json
check "generate against it exits 0 with an image" test -s "$(json gen.json 'd["file"]')"
"$nb" compare "a blue kite" --tiers NanoBanana,NanoBanana2 --base-url "$url" --api-key local-key --out out | cat >compare.txt
check "compare shows progress lines before its table" has compare.txt "NanoBanana2: wrote"

echo "== nanobanana batch with a SQLite journal; the same command again resumes and pays nothing more"
for i in 1 2 3; do echo "{\"key\": \"sku-$i\", \"prompt\": \"catalogue shot $i\", \"tier\": \"NanoBanana\"}"; done >jobs.jsonl
"$nb" batch jobs.jsonl --journal batch.db --out batch --base-url "$url" --api-key local-key --emulator-time-scale 0.3 --per-minute 10 --budget 1 | cat >batch1.txt
check "batch exits 0" is "${PIPESTATUS[0]}" 0
check "  ... reporting each job as it finishes" has batch1.txt "sku-3: completed on gemini-2.5-flash-image"
check "  ... with a spend table" has batch1.txt "3 jobs: Completed 3; spent \$0.117 in this run."
check "  ... and the images" is "$(find batch -name 'sku-*.png' | wc -l)" 3
"$nb" batch jobs.jsonl --journal batch.db --out batch --base-url "$url" --api-key local-key --emulator-time-scale 0.3 | cat >batch2.txt
check "the same batch again finds every job done" has batch2.txt "3 jobs: AlreadyCompleted 3; spent \$0.000 in this run."

echo "== SIGINT to a running generate prints the id; resume collects it without a second submit"
sigint_default "$nb" generate "a poster titled BLUE NOTES" --typography --base-url "$url" --api-key local-key --out out >sigint.txt 2>&1 &
gen_pid=$!
check "generate reports the accepted prediction" wait_for sigint.txt "created after" 60
kill -INT "$gen_pid"
wait "$gen_pid"
check "generate exits 130 on SIGINT" is "$?" 130
check "  ... printing how to resume" has sigint.txt "Resume with: nanobanana resume "
check "  ... without a stack trace" no_trace sigint.txt
id=$(grep -o 'nanobanana resume [0-9a-f]*' sigint.txt | head -1 | awk '{print $3}')
suggested=$(grep -o 'Resume with: nanobanana resume .*' sigint.txt | head -1 | sed 's/^Resume with: nanobanana //')
check "  ... a command that names the model and the same service" is "$suggested" "resume $id --model gemini-3-pro-image-preview --base-url $url"
# Run as printed; the key is the user's (here the emulator's), never part of the printed command.
# shellcheck disable=SC2086
"$nb" $suggested --api-key local-key --out out --json >resumed.json
check "resume $id from another process exits 0 with the same prediction" is "$(json resumed.json 'd["predictionId"]')" "$id"
kill -TERM "$emu_pid"
wait "$emu_pid"
check "nanobanana-emulator stops on SIGTERM with exit 0" is "$?" 0
check "  ... having accepted 7 jobs (generate, compare x2, batch x3 once, the interrupted one; resume sent no submit)" has emu.txt "Emulator stopped (7 jobs accepted)"

cd - >/dev/null || exit 1

echo "== a new console app on the packages, with every C# block of the README, docs/ and the packages' READMEs as pasted (four run against an emulator, the rest compiled)"
for project in src/NanoBanana src/NanoBanana.Emulator src/NanoBanana.Extensions.AI src/NanoBanana.Journal.Sqlite src/NanoBanana.Journal.PostgreSql; do
  check "pack $project" quiet dotnet pack "$project" -nologo -o "$work/feed" -p:Version="$version"
done
check "dotnet new console" quiet dotnet new console -o "$work/app" -n app
check "dotnet add package NanoBanana and its four packages (ASP.NET Core, xunit.assert and OTLP for some blocks)" quiet bash -c "
  for p in NanoBanana NanoBanana.Emulator NanoBanana.Extensions.AI NanoBanana.Journal.Sqlite NanoBanana.Journal.PostgreSql; do dotnet add '$work/app' package \$p --version '$version' --no-restore || exit 1; done
  for p in xunit.assert:2.9.3 OpenTelemetry.Exporter.OpenTelemetryProtocol:1.20.1; do dotnet add '$work/app' package \${p%%:*} --version \${p##*:} --no-restore || exit 1; done
  sed -i 's|</Project>|  <ItemGroup><FrameworkReference Include=\"Microsoft.AspNetCore.App\" /></ItemGroup>\n</Project>|' '$work/app/app.csproj'"
# Program.cs runs the README's first usage block, its "start without waiting, resume later" block and its two
# Microsoft.Extensions.AI blocks, as written there, with only their own using lines (plus a console app's implicit
# ones); the options are pointed at an in-process emulator and the variables the blocks take as given are declared.
# Snippet<N>.cs compile the README's two blocks that cannot run here (an edit of placeholder URLs, a web app's builder),
# the emulator package's README blocks (shown on NuGet), docs/batch.md's and docs/telemetry.md's. Every C# block of the
# README, docs/ and the packages' READMEs must have a place here, so a new one fails the check until it is given one.
check "every C# block of the README, docs/ and the packages' READMEs is found and has its place" python3 - README.md "$work/app" <<'EOF'
import re, sys
readme = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"```csharp\n(.*?)```", readme, re.S)
def pick(*marks):
    found = [b for b in blocks if all(m in b for m in marks)]
    assert len(found) == 1, f"{marks}: {len(found)} blocks"
    return found[0]
usage = pick('new NanoBananaOptions { ApiKey = "sk-..." }')
resume = pick("StartGenerationAsync", "ResumeAsync")
edit = pick("EditAsync(")
di = pick("builder.Services.AddNanoBanana")
meai = pick("AsImageGenerator()", "GenerateImagesAsync")
meai_di = pick(".AddImageGenerator()", ".UseLogging()")
as_written = [usage, resume, meai, meai_di]
usage = usage.replace('new NanoBananaOptions { ApiKey = "sk-..." }', 'emulator.ConfigureClient(new NanoBananaOptions { ApiKey = "sk-..." })')
def split(*parts):
    lines = "\n".join(parts).split("\n")
    heads = [l for l in lines if re.fullmatch(r"using [A-Za-z.]+;", l)]
    return list(dict.fromkeys(heads)), [l for l in lines if l not in heads]
heads, body = split(usage, resume, meai, meai_di)
context = ["using Microsoft.Extensions.Configuration;", "using Microsoft.Extensions.DependencyInjection;", "using NanoBanana.Emulator;"]
before_di = [
    'Console.WriteLine($"IImageGenerator: {response.Contents.Count} image(s)");',
    "var services = new ServiceCollection();",
    'var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["NanoBanana:ApiKey"] = "sk-...", ["NanoBanana:BaseUrl"] = emulator.ApiBaseUrl.ToString() }).Build();',
    "services.PostConfigure<NanoBananaOptions>(o => NanoBananaEmulator.ScaleClient(o, 0.05));",
]
head_of_meai_di = next(l for l in meai_di.split("\n") if l and l not in heads)
at = body.index(head_of_meai_di)
body = body[:at] + before_di + body[at:]
program = list(dict.fromkeys(heads + context)) + [
    "await using var emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0.05 });",
    "var cancellationToken = CancellationToken.None;",
    "var ct = cancellationToken;",
] + body + [
    'Console.WriteLine($"resumed {resumed.PredictionId} from the id alone");',
    "await using var provider = services.BuildServiceProvider();",
    "var piped = provider.GetRequiredService<IImageGenerator>();",
    'var fromDi = await piped.GenerateImagesAsync("a lantern", cancellationToken: ct);',
    'Console.WriteLine($"DI pipeline: {piped.GetType().Name}, {fromDi.Contents.Count} image(s)");',
]
open(sys.argv[2] + "/Program.cs", "w", encoding="utf-8").write("\n".join(program) + "\n")
# Compiled only, each in a file of its own with its own using lines. Parameters stand for what a block takes as given,
# fully qualified so that they bring no namespace in; the edit block continues the usage block, so it has its using.
def doc_block(path, mark):
    found = [b for b in re.findall(r"```csharp\n(.*?)```", open(path, encoding="utf-8").read(), re.S) if mark in b]
    assert len(found) == 1, f"{path} {mark}: {len(found)} blocks"
    return found[0]
compile_only = [
    (edit, "using NanoBanana;", "static async Task ReadmeEdit(NanoBanana.INanoBananaClient client, CancellationToken ct)"),
    (di, "", "static void ReadmeRegistration(Microsoft.Extensions.Hosting.HostApplicationBuilder builder)"),
    (doc_block("src/NanoBanana.Emulator/README.md", "NanoBananaEmulator.StartAsync"), "using Xunit;", "static async Task EmulatorInATest()"),
    (doc_block("src/NanoBanana.Emulator/README.md", ".UseEmulator("), "", "static void EmulatorInAContainer(Microsoft.Extensions.DependencyInjection.IServiceCollection services)"),
    (doc_block("docs/batch.md", "RunBatchAsync("), "",
     "static async Task Batch(NanoBanana.INanoBananaClient client, IEnumerable<NanoBanana.Batch.BatchJob> jobs, IProgress<NanoBanana.Batch.BatchProgress> progress, CancellationToken ct)"),
    # A web app has these two namespaces among its implicit usings.
    (doc_block("docs/batch.md", "new BatchWebhookReceiver("), "using Microsoft.AspNetCore.Builder;\nusing Microsoft.AspNetCore.Http;",
     "static async Task WebhookReceiver(Microsoft.AspNetCore.Builder.WebApplication app, NanoBanana.INanoBananaClient client, string connectionString)"),
    (doc_block("docs/telemetry.md", "CreateTracerProviderBuilder"), "", "static void Exporting()"),
]
# Every C# block of the README, the docs and the packages' READMEs has its place above.
import glob
every = [(path, b) for path in ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("src/*/README.md"))
         for b in re.findall(r"```csharp\n(.*?)```", open(path, encoding="utf-8").read(), re.S)]
placed_all = as_written + [c[0] for c in compile_only]
unplaced = [f"{path}: {b.splitlines()[0]}" for path, b in every if not any(b == p for p in placed_all)]
assert not unplaced, "C# blocks the script does not check: " + "; ".join(unplaced)
for n, (block, given, signature) in enumerate(compile_only):
    heads, lines = split(given, block)
    open(f"{sys.argv[2]}/Snippet{n}.cs", "w", encoding="utf-8").write("\n".join(
        [h for h in heads if h] + [f"static class Snippet{n}", "{", "    " + signature, "    {"] + ["        " + l for l in lines] + ["    }", "}"]) + "\n")
EOF
check "  ... build against the packages from a local feed (warnings are errors)" quiet dotnet build "$work/app" -nologo -warnaserror -p:RestoreAdditionalProjectSources="$work/feed"
(cd "$work/app" && dotnet run --no-build >"$work/app.txt" 2>&1)
check "  ... and run: exit 0" is "$?" 0
check "  ... printing the routing explanation" has "$work/app.txt" "Chosen: Nano Banana Pro"
check "  ... writing poster.png" is "$(head -c 4 "$work/app/poster.png" 2>/dev/null | tail -c 3)" "PNG"
check "  ... and resuming a started job from its id alone" has "$work/app.txt" "from the id alone"
check "  ... the IImageGenerator block: an image" has "$work/app.txt" "IImageGenerator: 1 image(s)"
check "  ... the registration block: the logging layer outermost, an image" has "$work/app.txt" "DI pipeline: LoggingImageGenerator, 1 image(s)"
check "  ... without a stack trace" no_trace "$work/app.txt"

echo "== an app of one's own that starts the emulator package and waits: Ctrl+C ends it"
# The emulator's web host took Ctrl+C and SIGTERM for the whole process and only stopped itself: such an app ran on
# without its emulator, and only SIGKILL ended it. A watchdog kills it after 60 s, so a hang fails the check, not CI.
check "dotnet new console (an app that holds an emulator)" quiet dotnet new console -o "$work/hold" -n hold
check "  ... dotnet add package NanoBanana.Emulator" quiet dotnet add "$work/hold" package NanoBanana.Emulator --version "$version" --no-restore
cat >"$work/hold/Program.cs" <<'EOF'
await using var emulator = await NanoBanana.Emulator.NanoBananaEmulator.StartAsync();
Console.WriteLine($"emulator at {emulator.ApiBaseUrl}");
await Task.Delay(Timeout.Infinite);
EOF
check "  ... build against the packages from a local feed" quiet dotnet build "$work/hold" -nologo -warnaserror -p:RestoreAdditionalProjectSources="$work/feed"
(cd "$work/hold" && sigint_default dotnet bin/Debug/net10.0/hold.dll >"$work/hold.txt" 2>&1) &
hold_pid=$!
(sleep 60; kill -KILL "$hold_pid" 2>/dev/null) &
watchdog=$!
check "  ... starts its emulator" wait_for "$work/hold.txt" "emulator at" 60
kill -INT "$hold_pid"
wait "$hold_pid"
check "  ... and exits 130 on Ctrl+C" is "$?" 130
kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null

echo "== samples: QuickStart (the README's main job), Ctrl+C, TieredBatch, AspNetCore"

samples_bin() { echo "samples/$1/bin/Debug/net10.0/$2.dll"; }
(cd "$work" && dotnet "$OLDPWD/$(samples_bin QuickStart QuickStart)" >"$work/qs.txt" 2>&1)
check "QuickStart writes an image" has "$work/qs.txt" "Wrote image/png"
(cd "$work" && sigint_default dotnet "$OLDPWD/$(samples_bin QuickStart QuickStart)" >"$work/qs-int.txt" 2>&1) &
qs_pid=$!
check "QuickStart reports the accepted prediction" wait_for "$work/qs-int.txt" "created after" 60
kill -INT "$qs_pid"
wait "$qs_pid"
check "QuickStart exits 130 on Ctrl+C" is "$?" 130
check "  ... printing the id to resume" has "$work/qs-int.txt" "was accepted and keeps running"
check "  ... without a stack trace" no_trace "$work/qs-int.txt"
mkdir -p "$work/qs-ro" && echo "a file where the output folder goes" >"$work/qs-ro/output"
(cd "$work/qs-ro" && dotnet "$OLDPWD/$(samples_bin QuickStart QuickStart)" >"$work/qs-ro.txt" 2>&1)
check "QuickStart that cannot write ./output exits 1" is "$?" 1
check "  ... saying how to collect the completed prediction" has "$work/qs-ro.txt" "nanobanana resume"
check "  ... without a stack trace" no_trace "$work/qs-ro.txt"
(cd "$work" && NANOBANANA_API_KEY=$'sk-pasted\r\nwith-a-break' dotnet "$OLDPWD/$(samples_bin QuickStart QuickStart)" >"$work/qs-key.txt" 2>&1)
check "QuickStart with a key no header can carry exits 2" is "$?" 2
check "  ... naming the setting, not the key" has "$work/qs-key.txt" "Configuration error: NanoBanana:ApiKey (from the NANOBANANA_API_KEY environment variable) has a character"
check "  ... and never shows it" lacks "$work/qs-key.txt" "sk-pasted"
check "  ... without a stack trace" no_trace "$work/qs-key.txt"

dotnet "$(samples_bin TieredBatch TieredBatch)" "$work/missing.jsonl" >"$work/tb-missing.txt" 2>&1
check "TieredBatch with a missing file exits 2" is "$?" 2
cat >"$work/tiered.jsonl" <<'EOF'
{"prompt": "a ceramic mug", "size": "1K", "ratio": "1:1"}
not json at all
{"prompt": "a banner", "size": "1K", "ratio": "5:7"}
{"prompt": "a fox reading", "size": "1K", "ratio": "4:5", "stylized": true}
EOF
COLUMNS=200 dotnet "$(samples_bin TieredBatch TieredBatch)" "$work/tiered.jsonl" "$work/tiered" >"$work/tb.txt" 2>&1
check "TieredBatch with two bad lines exits 1 and runs the rest" is "$?" 1
check "  ... naming line 2" has "$work/tb.txt" "line 2"
check "  ... naming line 3" has "$work/tb.txt" "line 3"
check "  ... writing the two good jobs' images" is "$(find "$work/tiered" -name '*.png' | wc -l)" 2
check "  ... without a stack trace" no_trace "$work/tb.txt"
check "  ... without ANSI codes, its output being a file" no_ansi "$work/tb.txt"
NANOBANANA_API_KEY=$'sk-pasted\r\nwith-a-break' dotnet "$(samples_bin TieredBatch TieredBatch)" "$work/tiered.jsonl" "$work/tiered-key" >"$work/tb-key.txt" 2>&1
check "TieredBatch with a key no header can carry exits 2" is "$?" 2
check "  ... naming the setting, never the key, without a stack trace" eval 'has "$work/tb-key.txt" "Configuration error: NanoBanana:ApiKey" && lacks "$work/tb-key.txt" "sk-pasted" && no_trace "$work/tb-key.txt"'

NanoBanana__Dedline=00:01:00 timeout 60 dotnet "$(samples_bin AspNetCore AspNetCore)" --urls http://127.0.0.1:0 >"$work/asp.txt" 2>&1
check "AspNetCore with a misspelled setting exits 1" is "$?" 1
check "  ... naming the key and the likely one" has "$work/asp.txt" "NanoBanana:Dedline is not a setting (did you mean NanoBanana:Deadline?)"
check "  ... without a stack trace" no_trace "$work/asp.txt"

# The web sample: an image, collected again by id; a caller that goes away and a deadline that passes both leave the
# address that collects the paid prediction, and collecting sends no second submit.
asp_start() { # asp_start LOG [env...]: starts the sample on a free port, sets asp_url to its base URL
  local log=$1
  shift
  env "$@" dotnet "$(samples_bin AspNetCore AspNetCore)" --urls http://127.0.0.1:0 >"$log" 2>&1 &
  pids+=($!)
  asp_url=""
  wait_for "$log" "Now listening on: " 60 && asp_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
}
header() { grep -i "^$2:" "$1" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
submits() { grep -c "Submitted prediction" "$1"; }
asp_start "$work/asp-run.txt"
asp=$asp_url
check "AspNetCore starts on the emulator without a key" test -n "$asp"
curl -s -D "$work/asp-h1.txt" -o "$work/asp-1.png" -X POST "$asp/images?prompt=poster&size=2K&ratio=16:9"
check "  ... POST /images answers with a PNG" is "$(head -c 4 "$work/asp-1.png" | tail -c 3)" "PNG"
asp_id=$(header "$work/asp-h1.txt" X-NanoBanana-Prediction)
curl -s -o "$work/asp-2.png" "$asp/images?id=$asp_id"
check "  ... GET /images?id=$asp_id answers with the same image" cmp -s "$work/asp-1.png" "$work/asp-2.png"
check "  ... without a second submit" is "$(submits "$work/asp-run.txt")" 1
curl -s -m 0.3 -X POST "$asp/images?prompt=poster" >/dev/null
check "  ... a caller that goes away leaves the address that collects the prediction in the log" wait_for "$work/asp-run.txt" "Collect it with GET /images?id=" 10
gone=$(grep -o 'Collect it with GET /images?id=[^ ]*' "$work/asp-run.txt" | head -1 | cut -d' ' -f5)
curl -s -o "$work/asp-3.png" -w '%{http_code}' "$asp$gone" >"$work/asp-3.code"
check "  ... and GET $gone answers 200 with a PNG" is "$(cat "$work/asp-3.code")$(head -c 4 "$work/asp-3.png" | tail -c 3)" "200PNG"
curl -s -D "$work/asp-h5.txt" -o "$work/asp-5.json" -X POST "$asp/jobs?prompt=poster&typography=true"
check "  ... POST /jobs answers 202 Accepted" has "$work/asp-h5.txt" "HTTP/1.1 202"
job_at=$(header "$work/asp-h5.txt" Location)
check "  ... with a Location that names the prediction" is "$job_at" "/images?id=$(json "$work/asp-5.json" 'd["predictionId"]' 2>/dev/null)&model=gemini-3-pro-image-preview"
curl -s -o "$work/asp-6.png" -w '%{http_code}' "$asp$job_at" >"$work/asp-6.code"
check "  ... where GET answers 200 with a PNG once the job is done" is "$(cat "$work/asp-6.code")$(head -c 4 "$work/asp-6.png" | tail -c 3)" "200PNG"
check "  ... three submits in all" is "$(submits "$work/asp-run.txt")" 3
curl -s -o "$work/asp-7.json" -w '%{http_code}' "$asp/images?id=no-such-prediction" >"$work/asp-7.code"
check "  ... GET /images for an id the service does not know answers 404" is "$(cat "$work/asp-7.code")" 404
check "  ... saying so, with no address that would fail again" is "$(json "$work/asp-7.json" '"does not know" in d["detail"] and d.get("resume") is None')" True
curl -s -o "$work/asp-8.json" -w '%{http_code}' "$asp/images?id=..&model=NanoBananaPro" >"$work/asp-8.code"
check "  ... GET /images with an id no poll route can hold answers 400 saying why" is "$(cat "$work/asp-8.code")$(json "$work/asp-8.json" '"cannot be a prediction id" in d["detail"]')" 400True
check "  ... without a stack trace" no_trace "$work/asp-run.txt"
asp_start "$work/asp-late.txt" NanoBanana__Deadline=00:00:00.7
late=$asp_url
curl -s -o "$work/asp-late.json" -w '%{http_code}' -X POST "$late/images?prompt=poster" >"$work/asp-late.code"
check "AspNetCore past the job's deadline answers 504" is "$(cat "$work/asp-late.code")" 504
late_resume=$(json "$work/asp-late.json" 'd["resume"]' 2>/dev/null)
check "  ... with the prediction id and the address that collects it" is "$late_resume" "/images?id=$(json "$work/asp-late.json" 'd["predictionId"]' 2>/dev/null)&model=gemini-3.1-flash-image-preview"
sleep 2
curl -s -o "$work/asp-4.png" -w '%{http_code}' "$late$late_resume" >"$work/asp-4.code"
check "  ... which answers 200 with a PNG once the job is done" is "$(cat "$work/asp-4.code")$(head -c 4 "$work/asp-4.png" | tail -c 3)" "200PNG"
check "  ... one submit in all" is "$(submits "$work/asp-late.txt")" 1

echo "newcomer: $checks checks, $failed failed"
[[ $failed -eq 0 ]]
