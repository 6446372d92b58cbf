using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Nursery.TestBodies;

/// <summary>
/// The planned stage bodies of <see cref="PlannedBodies"/> as programs: a per-item <c>sh</c> script and a persistent
/// Python worker. They read the same tokens and compute the same values; both need <see cref="PlannedBodies.RunVariable"/>.
/// </summary>
public static partial class PlannedCommands
{
    /// <summary>
    /// Run as <c>sh -c Shell sh STAGE</c>, once per item, with the line written by <see cref="FormatForShell"/> on stdin:
    /// "index value token plan". Writes "index value plan" (see <see cref="ParseShellOutput"/>).
    /// T is not used (a shell does not throw) and O is not used (no memory limit on command stages in the plan).
    /// </summary>
    public const string Shell = """
        set -u
        if [ -z "${NURSERY_PROPS_RUN:-}" ]; then echo "NURSERY_PROPS_RUN is not set in the child" >&2; exit 111; fi
        : > "$NURSERY_PROPS_RUN/pid-$$"
        stage=$1
        read -r index value token plan
        case $token in
            +*) token=${token#+}; sleep 300 < /dev/null > /dev/null 2>&1 & ;;
        esac
        case $token in
            "~"*)
                token=${token#"~"}
                mark="$NURSERY_PROPS_RUN/t-s$stage-$index"
                if [ -e "$mark" ]; then token=R; else : > "$mark"; fi ;;
        esac
        case $token in
            R) ;;
            W*) sleep "$(printf '0.%03d' "${token#W}")" ;;
            X*) exit "${token#X}" ;;
            K) kill -9 $$ ;;
            S) kill -STOP $$ ;;
            H) exec sleep 1000 ;;
            G*) printf "${token#G}"; exit 0 ;;
            *) echo "unknown plan token '$token'" >&2; exit 112 ;;
        esac
        printf '%s %s %s\n' "$index" "$((value * 3 + stage + 1))" "$plan"
        """;

    /// <summary>
    /// Run as <c>python3 -c Python STAGE</c>: a persistent worker speaking the newline-delimited JSON protocol (ready
    /// line, heartbeats every 100 ms when NURSERY_PROPS_BEAT=1, a failed start when NURSERY_PROPS_INIT_FAILS=1).
    /// Garbage ends with a newline: a line not yet ended is a reply still being written, which only a timeout can end.
    /// O is not used (no memory limit on command stages in the plan).
    /// </summary>
    public const string Python = """
        import json, os, signal, subprocess, sys, threading, time
        stage = int(sys.argv[1])
        protocol = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        lock = threading.Lock()

        def write(data):
            with lock:
                protocol.write(data)

        def send(message):
            write((json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8"))

        def error(kind, text):
            return {"type": kind, "message": text, "traceback": ""}

        run = os.environ.get("NURSERY_PROPS_RUN", "")
        if not run:
            send({"error": error("NoRunVariable", "NURSERY_PROPS_RUN is not set in the child")})
            os._exit(2)
        open(os.path.join(run, "pid-%d" % os.getpid()), "w").close()
        if os.environ.get("NURSERY_PROPS_INIT_FAILS") == "1":
            send({"error": error("PlannedInitFailure", "the planned initializer fails on purpose")})
            os._exit(2)
        send({"ready": True})

        def beat():
            while True:
                time.sleep(0.1)
                send({"heartbeat": True})

        if os.environ.get("NURSERY_PROPS_BEAT") == "1":
            threading.Thread(target=beat, daemon=True).start()

        def forever():
            while True:
                time.sleep(3600)

        def handle(item):
            token = item["Plan"].split("/")[stage]
            if token.startswith("+"):
                subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                token = token[1:]
            if token.startswith("~"):
                token = token[1:]
                mark = os.path.join(run, "t-s%d-%d" % (stage, item["Index"]))
                if os.path.exists(mark):
                    token = "R"
                else:
                    open(mark, "w").close()
            kind = token[0]
            if kind == "W":
                time.sleep(int(token[1:]) / 1000)
            elif kind == "T":
                raise ValueError("planned throw for item %d at stage %d" % (item["Index"], stage))
            elif kind == "X":
                sys.stderr.flush()
                os._exit(int(token[1:]))
            elif kind == "K":
                os.kill(os.getpid(), signal.SIGKILL)
                forever()
            elif kind == "S":
                os.kill(os.getpid(), signal.SIGSTOP)
                forever()
            elif kind == "H":
                forever()
            elif kind == "G":
                write(bytes.fromhex(token[1:]) + b"\n")
                forever()
            elif kind != "R":
                raise ValueError("unknown plan token " + token)
            return {"Index": item["Index"], "Value": item["Value"] * 3 + stage + 1, "Plan": item["Plan"]}

        for line in sys.stdin.buffer:
            request = json.loads(line)
            try:
                send({"id": request["id"], "ok": handle(request["item"])})
            except Exception as exc:
                send({"id": request["id"], "error": error(type(exc).__name__, str(exc))})
        sys.stderr.flush()
        os._exit(0)
        """;

    /// <summary>The shell's stdin line: garbage bytes (G&lt;hex&gt;) become printf octal escapes, so the script needs no hex decoder.</summary>
    public static string FormatForShell(PlannedItem item, int stage)
    {
        var token = item.Plan.Split('/')[stage];
        var kind = token.TrimStart('+', '~');
        if (kind.StartsWith('G'))
        {
            var octal = new StringBuilder();
            foreach (var value in Convert.FromHexString(kind.AsSpan(1)))
                octal.Append(CultureInfo.InvariantCulture, $"\\{Convert.ToString(value, 8).PadLeft(3, '0')}");
            token = token[..^kind.Length] + "G" + octal;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{item.Index} {item.Value} {token} {item.Plan}\n");
    }

    /// <summary>Parses exactly "index value plan" and a newline; anything else throws, which the stage reports as a ProtocolViolation.</summary>
    public static PlannedItem ParseShellOutput(string stdout)
    {
        var match = ShellOutput().Match(stdout);
        if (!match.Success)
            throw new FormatException($"not 'index value plan': {stdout[..Math.Min(stdout.Length, 80)]}");
        return new PlannedItem(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), match.Groups[3].Value);
    }

    [GeneratedRegex(@"^([0-9]+) ([0-9]+) ([!-~]+)\n\z")]
    private static partial Regex ShellOutput();
}
