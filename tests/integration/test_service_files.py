"""deploy/: the systemd unit and the cron table are valid, hardened, and run real marketrec commands.

The unit goes through `systemd-analyze verify` when the machine has it, and always through a strict
parser of unit-file syntax (sections, the known keys of [Unit], [Service] and [Install], typed
values). The cron table goes through a strict parser of cron.d lines (five time fields with ranges,
steps, lists and names, a user, a command). Every marketrec command in either file is checked
against the real command line: its sub-command and options must be the ones `marketrec <cmd> --help`
lists, with a value for each option that takes one, and the real parser must accept the whole line.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from collector.units import parse_duration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "marketrec-collect.service"
CRON = DEPLOY / "marketrec.cron"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
DATA_ROOT = "/var/lib/marketrec"
CONFIG = "/etc/marketrec/marketrec.toml"


# -- marketrec's own command line -----------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # the help's <type>: str, path, float, int, bool (a flag, no value)
    required: bool


@functools.cache
def marketrec_options(command: str) -> dict[str, Option]:
    """The options `marketrec <command> --help` lists, by long and short name."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "marketrec", command, "--help"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, f"marketrec {command} --help: {done.stderr.strip()}"
    options: dict[str, Option] = {}
    for line in done.stdout.splitlines():
        m = re.match(r"^\W*?(\*)?\s*(--[a-z][a-z0-9-]*)(?:\s+(-[a-zA-Z]))?\s+<(\w+)>", line)
        if m:
            option = Option(m.group(2), m.group(4), m.group(1) == "*")
            options[option.name] = option
            if m.group(3):
                options[m.group(3)] = option
    assert "--help" in options, f"could not read the options of marketrec {command} --help:\n{done.stdout}"
    return options


def check_invocation(argv: list[str]) -> dict[str, str | bool]:
    """A marketrec command line (after the program): its options with their values; AssertionError if wrong."""
    assert argv, "marketrec without a sub-command"
    command, *rest = argv
    options = marketrec_options(command)
    given: dict[str, str | bool] = {}
    i = 0
    while i < len(rest):
        token = rest[i]
        name, eq, inline = token.partition("=")
        assert name in options, f"marketrec {command} has no option {name!r} (it has {sorted(set(options))})"
        option = options[name]
        if option.kind == "bool":
            assert not eq, f"{name} is a flag and takes no value"
            given[option.name] = True
            i += 1
            continue
        if eq:
            value = inline
        else:
            assert i + 1 < len(rest) and not rest[i + 1].startswith("-"), f"{name} needs a value"
            value, i = rest[i + 1], i + 1
        i += 1
        if option.kind == "float":
            float(value)
        elif option.kind == "int":
            int(value)
        if option.name == "--duration":
            parse_duration(value)  # what `marketrec collect` does with it
        given[option.name] = value
    missing = [o.name for o in set(options.values()) if o.required and o.name not in given]
    assert not missing, f"marketrec {command} needs {missing}"
    # The real parser: with every option's value in place, --help (eager) stops it before anything runs.
    done = subprocess.run([sys.executable, "-m", "marketrec", *argv, "--help"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, f"marketrec {' '.join(argv)}: {done.stderr.strip()}"
    return given


def marketrec_commands(command_line: str) -> list[list[str]]:
    """The marketrec invocations (arguments after the program) in a shell command line."""
    found = []
    segment: list[str] = []
    for token in [*shlex.split(command_line, posix=True), ";"]:
        if token in {"&&", "||", ";", "|"}:
            words = [w for w in segment if w != "exec" and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
            if words and Path(words[0]).name == "marketrec":
                assert Path(words[0]).is_absolute(), f"{words[0]}: cron and systemd need the program's full path"
                found.append(words[1:])
            segment = []
        else:
            segment.append(token)
    return found


# -- a strict parser of systemd unit files --------------------------------------------------------

class UnitSyntaxError(ValueError):
    pass


def _words(text: str) -> list[str]:
    return text.split()


_CONDITIONS = _words("Architecture Firmware Virtualization Host KernelCommandLine KernelVersion Credential Environment "
               "Security Capability ACPower NeedsUpdate FirstBoot PathExists PathExistsGlob PathIsDirectory "
               "PathIsSymbolicLink PathIsMountPoint PathIsReadWrite PathIsEncrypted DirectoryNotEmpty FileNotEmpty "
               "FileIsExecutable User Group ControlGroupController Memory CPUs CPUFeature OSRelease "
               "MemoryPressure CPUPressure IOPressure")
UNIT_KEYS = set(_words(
    "Description Documentation Wants Requires Requisite BindsTo PartOf Upholds Conflicts Before After OnFailure "
    "OnSuccess PropagatesReloadTo ReloadPropagatedFrom PropagatesStopTo StopPropagatedFrom JoinsNamespaceOf "
    "RequiresMountsFor OnFailureJobMode IgnoreOnIsolate StopWhenUnneeded RefuseManualStart RefuseManualStop "
    "AllowIsolate DefaultDependencies CollectMode FailureAction SuccessAction FailureActionExitStatus "
    "SuccessActionExitStatus JobTimeoutSec JobRunningTimeoutSec JobTimeoutAction JobTimeoutRebootArgument "
    "StartLimitIntervalSec StartLimitBurst StartLimitAction RebootArgument SourcePath"
)) | {f"{kind}{c}" for kind in ("Condition", "Assert") for c in _CONDITIONS}
_SERVICE_OWN = (
    "Type ExitType RemainAfterExit GuessMainPID PIDFile BusName ExecStart ExecStartPre ExecStartPost ExecCondition "
    "ExecReload ExecStop ExecStopPost RestartSec TimeoutStartSec TimeoutStopSec TimeoutAbortSec TimeoutSec "
    "TimeoutStartFailureMode TimeoutStopFailureMode RuntimeMaxSec RuntimeRandomizedExtraSec WatchdogSec Restart "
    "SuccessExitStatus RestartPreventExitStatus RestartForceExitStatus RootDirectoryStartOnly NonBlocking "
    "NotifyAccess Sockets FileDescriptorStoreMax USBFunctionDescriptors USBFunctionStrings OOMPolicy OpenFile "
    "ReloadSignal")
_EXEC = (
    "WorkingDirectory RootDirectory RootImage RootImageOptions RootHash RootHashSignature RootVerity MountAPIVFS "
    "ProtectProc ProcSubset BindPaths BindReadOnlyPaths MountImages ExtensionImages ExtensionDirectories User Group "
    "DynamicUser SupplementaryGroups PAMName CapabilityBoundingSet AmbientCapabilities NoNewPrivileges SecureBits "
    "SELinuxContext AppArmorProfile SmackProcessLabel LimitCPU LimitFSIZE LimitDATA LimitSTACK LimitCORE LimitRSS "
    "LimitNOFILE LimitAS LimitNPROC LimitMEMLOCK LimitLOCKS LimitSIGPENDING LimitMSGQUEUE LimitNICE LimitRTPRIO "
    "LimitRTTIME UMask CoredumpFilter KeyringMode OOMScoreAdjust TimerSlackNSec Personality IgnoreSIGPIPE Nice "
    "CPUSchedulingPolicy CPUSchedulingPriority CPUSchedulingResetOnFork CPUAffinity NUMAPolicy NUMAMask "
    "IOSchedulingClass IOSchedulingPriority ProtectSystem ProtectHome RuntimeDirectory StateDirectory CacheDirectory "
    "LogsDirectory ConfigurationDirectory RuntimeDirectoryMode StateDirectoryMode CacheDirectoryMode "
    "LogsDirectoryMode ConfigurationDirectoryMode RuntimeDirectoryPreserve TimeoutCleanSec ReadWritePaths "
    "ReadOnlyPaths InaccessiblePaths ExecPaths NoExecPaths TemporaryFileSystem PrivateTmp PrivateDevices "
    "PrivateNetwork NetworkNamespacePath PrivateIPC IPCNamespacePath PrivateUsers ProtectHostname ProtectClock "
    "ProtectKernelTunables ProtectKernelModules ProtectKernelLogs ProtectControlGroups RestrictAddressFamilies "
    "RestrictFileSystems RestrictNamespaces LockPersonality MemoryDenyWriteExecute RestrictRealtime RestrictSUIDSGID "
    "RemoveIPC PrivateMounts MountFlags SystemCallFilter SystemCallErrorNumber SystemCallArchitectures SystemCallLog "
    "Environment EnvironmentFile PassEnvironment UnsetEnvironment StandardInput StandardOutput StandardError "
    "StandardInputText StandardInputData LogLevelMax LogExtraFields LogRateLimitIntervalSec LogRateLimitBurst "
    "LogNamespace SyslogIdentifier SyslogFacility SyslogLevel SyslogLevelPrefix TTYPath TTYReset TTYVHangup "
    "TTYRows TTYColumns TTYVTDisallocate LoadCredential LoadCredentialEncrypted SetCredential SetCredentialEncrypted "
    "UtmpIdentifier UtmpMode")
_KILL = "KillMode KillSignal RestartKillSignal SendSIGHUP SendSIGKILL FinalKillSignal WatchdogSignal"
_RESOURCES = (
    "CPUAccounting CPUWeight StartupCPUWeight CPUQuota CPUQuotaPeriodSec AllowedCPUs StartupAllowedCPUs "
    "MemoryAccounting MemoryMin MemoryLow MemoryHigh MemoryMax MemorySwapMax TasksAccounting TasksMax IOAccounting "
    "IOWeight StartupIOWeight IODeviceWeight IOReadBandwidthMax IOWriteBandwidthMax IOReadIOPSMax IOWriteIOPSMax "
    "IODeviceLatencyTargetSec IPAccounting IPAddressAllow IPAddressDeny DeviceAllow DevicePolicy Slice Delegate "
    "DisableControllers ManagedOOMSwap ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference")
SERVICE_KEYS = set(_words(f"{_SERVICE_OWN} {_EXEC} {_KILL} {_RESOURCES}"))
INSTALL_KEYS = set(_words("Alias WantedBy RequiredBy UpheldBy Also DefaultInstance"))
SECTIONS = {"Unit": UNIT_KEYS, "Service": SERVICE_KEYS, "Install": INSTALL_KEYS}

_BOOLEANS = {"1", "yes", "y", "true", "t", "on", "0", "no", "n", "false", "f", "off"}
BOOLEAN_KEYS = set(_words(
    "NoNewPrivileges PrivateTmp PrivateDevices PrivateNetwork PrivateIPC PrivateMounts ProtectKernelTunables "
    "ProtectKernelModules ProtectKernelLogs ProtectControlGroups ProtectClock ProtectHostname LockPersonality "
    "MemoryDenyWriteExecute RestrictRealtime RestrictSUIDSGID RemoveIPC RemainAfterExit DefaultDependencies "
    "DynamicUser IgnoreSIGPIPE SendSIGHUP SendSIGKILL RootDirectoryStartOnly NonBlocking StopWhenUnneeded "
    "RefuseManualStart RefuseManualStop AllowIsolate IgnoreOnIsolate CPUAccounting MemoryAccounting "
    "TasksAccounting IOAccounting IPAccounting"))
ENUMS = {
    "Type": {"simple", "exec", "forking", "oneshot", "dbus", "notify", "notify-reload", "idle"},
    "Restart": {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"},
    "KillMode": {"control-group", "mixed", "process", "none"},
    "ProtectSystem": _BOOLEANS | {"full", "strict"},
    "ProtectHome": _BOOLEANS | {"read-only", "tmpfs"},
    "NotifyAccess": {"none", "main", "exec", "all"},
    "StandardOutput": {"inherit", "null", "tty", "journal", "kmsg", "journal+console", "kmsg+console", "socket"},
    "StandardError": {"inherit", "null", "tty", "journal", "kmsg", "journal+console", "kmsg+console", "socket"},
}
TIME_KEYS = set(_words("RestartSec TimeoutStartSec TimeoutStopSec TimeoutAbortSec TimeoutSec RuntimeMaxSec WatchdogSec "
                "StartLimitIntervalSec JobTimeoutSec JobRunningTimeoutSec TimeoutCleanSec"))
SIGNAL_KEYS = {"KillSignal", "RestartKillSignal", "FinalKillSignal", "WatchdogSignal", "ReloadSignal"}
EXEC_KEYS = {"ExecStart", "ExecStartPre", "ExecStartPost", "ExecCondition", "ExecReload", "ExecStop", "ExecStopPost"}
PATH_LIST_KEYS = {"ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths"}
DIRECTORY_KEYS = {"RuntimeDirectory", "StateDirectory", "CacheDirectory", "LogsDirectory", "ConfigurationDirectory"}
MODE_KEYS = {"UMask"} | {f"{k}Mode" for k in DIRECTORY_KEYS}
UNIT_LIST_KEYS = set(_words("Wants Requires Requisite BindsTo PartOf Upholds Conflicts Before After OnFailure "
                            "OnSuccess WantedBy RequiredBy UpheldBy Also"))
SINGLE_KEYS = ({"Description", "Type", "Restart", "User", "Group", "WorkingDirectory", "ExecStart", "UMask"}
               | TIME_KEYS | SIGNAL_KEYS | BOOLEAN_KEYS | set(ENUMS))
_SPAN_UNITS = {"usec": 1e-6, "us": 1e-6, "µs": 1e-6, "msec": 1e-3, "ms": 1e-3, "seconds": 1, "second": 1, "sec": 1,
               "s": 1, "minutes": 60, "minute": 60, "min": 60, "m": 60, "hours": 3600, "hour": 3600, "hr": 3600,
               "h": 3600, "days": 86400, "day": 86400, "d": 86400, "weeks": 604800, "week": 604800, "w": 604800,
               "months": 2629800, "month": 2629800, "M": 2629800, "years": 31557600, "year": 31557600,
               "y": 31557600}
_UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@-]+\.(service|socket|device|mount|automount|swap|target|path|timer|slice|"
                        r"scope)$")
_USER = re.compile(r"^([a-z_][a-z0-9_-]{0,30}\$?|[0-9]+)$")


def timespan_seconds(value: str) -> float:
    """A systemd time span ("90", "2min 30s", "infinity") in seconds; UnitSyntaxError otherwise."""
    if value == "infinity":
        return float("inf")
    parts = re.findall(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Zµ]*)", value)
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", value):
        raise UnitSyntaxError(f"{value!r} is not a time span")
    total = 0.0
    for number, unit in parts:
        if unit not in _SPAN_UNITS and unit != "":
            raise UnitSyntaxError(f"{value!r}: unknown time unit {unit!r}")
        total += float(number) * _SPAN_UNITS.get(unit, 1)
    return total


def _check_value(key: str, value: str) -> None:
    words = value.split()
    if key in BOOLEAN_KEYS and value.lower() not in _BOOLEANS:
        raise UnitSyntaxError(f"{key}={value}: not a boolean")
    if key in ENUMS and value.lower() not in ENUMS[key]:
        raise UnitSyntaxError(f"{key}={value}: not one of {sorted(ENUMS[key])}")
    if key in TIME_KEYS:
        timespan_seconds(value)
    if key in SIGNAL_KEYS:
        name = value if value.startswith("SIG") else f"SIG{value}"
        if name not in signal.Signals.__members__ and not value.isdigit():
            raise UnitSyntaxError(f"{key}={value}: not a signal")
    if key in EXEC_KEYS:
        program = value.lstrip("@-:+!")
        if not program or not program.split()[0].startswith("/"):
            raise UnitSyntaxError(f"{key}={value}: the program must be an absolute path")
    if key in PATH_LIST_KEYS and (not words or not all(w.lstrip("-+").startswith("/") for w in words)):
        raise UnitSyntaxError(f"{key}={value}: paths must be absolute")
    if key == "EnvironmentFile" and not value.lstrip("-").startswith("/"):
        raise UnitSyntaxError(f"{key}={value}: the path must be absolute")
    if key == "WorkingDirectory" and not (value.lstrip("-").startswith("/") or value.lstrip("-") == "~"):
        raise UnitSyntaxError(f"{key}={value}: the path must be absolute (or ~)")
    if key in DIRECTORY_KEYS and (not words or any(w.startswith("/") or ".." in w.split("/") for w in words)):
        raise UnitSyntaxError(f"{key}={value}: directories are relative to /var/lib, /run, ... and stay inside")
    if key in MODE_KEYS and not re.fullmatch(r"0?[0-7]{3,4}", value):
        raise UnitSyntaxError(f"{key}={value}: not an octal mode")
    if key in {"User", "Group"} and not _USER.match(value):
        raise UnitSyntaxError(f"{key}={value}: not a user or group name")
    if key in UNIT_LIST_KEYS and (not words or not all(_UNIT_NAME.match(w) for w in words)):
        raise UnitSyntaxError(f"{key}={value}: not a list of unit names")
    if key == "LoadCredential" and not re.fullmatch(r"[A-Za-z0-9_.-]+(:\S+)?", value):
        raise UnitSyntaxError(f"{key}={value}: not ID[:PATH]")


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values of a service unit file; UnitSyntaxError (with the line) for anything off."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: str | None = None
    lines = text.split("\n")
    if text and not text.endswith("\n"):
        raise UnitSyntaxError("the file does not end with a newline")
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i].strip()
        i += 1
        while line.endswith("\\") and i < len(lines):  # a continuation line
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        try:
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
                if not m or m.group(1) not in SECTIONS:
                    raise UnitSyntaxError(f"unknown or malformed section {line}")
                current = m.group(1)
                if current in sections:
                    raise UnitSyntaxError(f"section [{current}] appears twice")
                sections[current] = {}
                continue
            if current is None:
                raise UnitSyntaxError("an assignment before the first section")
            key, eq, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
                raise UnitSyntaxError(f"{line!r} is not Key=Value")
            if key not in SECTIONS[current]:
                raise UnitSyntaxError(f"unknown key {key} in [{current}]")
            if key in SINGLE_KEYS and key in sections[current]:
                raise UnitSyntaxError(f"{key} is set twice")
            _check_value(key, value)
            sections[current].setdefault(key, []).append(value)
        except UnitSyntaxError as e:
            raise UnitSyntaxError(f"line {number}: {e}") from None
    service = sections.get("Service")
    if service is None or "ExecStart" not in service:
        raise UnitSyntaxError("a service needs [Service] with ExecStart=")
    if "Description" not in sections.get("Unit", {}):
        raise UnitSyntaxError("[Unit] has no Description=")
    return sections


def systemd_verify(path: Path) -> str:
    """`systemd-analyze verify` of one unit file: its complaints (verify exits 0 on many of them)."""
    assert SYSTEMD_ANALYZE
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(path)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=path.parent)
    return "\n".join(s for s in (done.stdout.strip(), done.stderr.strip()) if s) + (
        f"\n(exit {done.returncode})" if done.returncode else "")


def the_unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (the strict parser still runs)")
def test_systemd_analyze_verify_finds_nothing_to_complain_about_in_the_collector_unit(tmp_path: Path) -> None:
    # verify also checks that ExecStart's program exists: point it at this checkout's marketrec.
    program = shlex.split(one(the_unit(), "Service", "ExecStart"))[0]
    here = Path(sys.executable).with_name("marketrec")
    assert here.exists(), f"{here}: marketrec is not installed in this venv"
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(program, str(here)), encoding="utf-8")
    assert systemd_verify(copy) == ""


def test_the_collector_unit_passes_a_strict_parser_of_unit_file_syntax() -> None:
    unit = the_unit()
    assert set(unit) == {"Unit", "Service", "Install"}
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


BASE_UNIT = (f"[Unit]\nDescription=x\n\n[Service]\nExecStart={sys.executable} -c pass\n\n"
             "[Install]\nWantedBy=multi-user.target\n")
BAD_UNITS = {
    "an unknown section": BASE_UNIT + "[Bogus]\nKey=1\n",
    "an unknown key": BASE_UNIT.replace("[Service]\n", "[Service]\nRestartt=on-failure\n"),
    "a key of another section": BASE_UNIT.replace("[Install]\n", "[Install]\nRestart=always\n"),
    "an assignment before any section": "Restart=always\n" + BASE_UNIT,
    "a relative ExecStart": BASE_UNIT.replace(f"ExecStart={sys.executable}", "ExecStart=bin/marketrec"),
    "no ExecStart": BASE_UNIT.replace(f"ExecStart={sys.executable} -c pass\n", "Type=exec\n"),
    "a Restart value systemd does not know": BASE_UNIT.replace("[Service]\n", "[Service]\nRestart=sometimes\n"),
    "a boolean that is not one": BASE_UNIT.replace("[Service]\n", "[Service]\nPrivateTmp=perhaps\n"),
    "a time span that is not one": BASE_UNIT.replace("[Service]\n", "[Service]\nTimeoutStopSec=2 fortnights\n"),
    "a signal that is not one": BASE_UNIT.replace("[Service]\n", "[Service]\nKillSignal=SIGSTOPPLEASE\n"),
    "a relative ReadWritePaths": BASE_UNIT.replace("[Service]\n", "[Service]\nReadWritePaths=var/lib/x\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_UNITS))
def test_the_strict_unit_parser_rejects_a_unit_with(case: str, tmp_path: Path) -> None:
    assert parse_unit(BASE_UNIT)["Service"]["ExecStart"]  # the base is fine ...
    with pytest.raises(UnitSyntaxError):
        parse_unit(BAD_UNITS[case])  # ... and the flaw is caught
    if SYSTEMD_ANALYZE:  # systemd agrees that it is a flaw
        path = tmp_path / "probe.service"
        path.write_text(BAD_UNITS[case])
        assert systemd_verify(path) != "", f"systemd-analyze accepts {case}: the parser is stricter than systemd"


def test_the_collector_unit_runs_marketrec_collect_with_options_that_exist() -> None:
    exec_start = one(the_unit(), "Service", "ExecStart")
    [argv] = marketrec_commands(exec_start)
    given = check_invocation(argv)
    assert argv[0] == "collect" and given["--config"] == CONFIG
    assert "--duration" not in given  # a service runs until systemd stops it


def test_the_collector_unit_runs_as_a_dedicated_user_and_stops_cleanly_on_sigterm() -> None:
    unit = the_unit()
    assert one(unit, "Service", "User") not in {"root", "0"}
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "KillSignal") in {"SIGTERM", "TERM", "15"}
    # Requests in flight finish (the collector's default timeout is 20 s), then the journal rolls into Parquet.
    assert timespan_seconds(one(unit, "Service", "TimeoutStopSec")) >= 60
    assert unit["Service"].get("EnvironmentFile") or unit["Service"].get("LoadCredential"), "no credentials"


def test_the_collector_unit_is_hardened_and_may_write_only_its_data_root() -> None:
    unit = the_unit()
    assert one(unit, "Service", "NoNewPrivileges") in {"yes", "true", "1", "on"}
    assert one(unit, "Service", "PrivateTmp") in {"yes", "true", "1", "on"}
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert " ".join(unit["Service"].get("ReadWritePaths", [])).split() == [DATA_ROOT]
    assert one(unit, "Service", "WorkingDirectory") == DATA_ROOT


# -- a strict parser of cron.d lines -----------------------------------------------------------------

class CronSyntaxError(ValueError):
    pass


MONTHS = {m: i for i, m in enumerate(_words("jan feb mar apr may jun jul aug sep oct nov dec"), start=1)}
DAYS = {d: i for i, d in enumerate(_words("sun mon tue wed thu fri sat"))}
FIELDS = [("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, MONTHS),
          ("day of week", 0, 7, DAYS)]
MACROS = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """The values one time field selects. As Debian's crontab(5): lists of numbers, ranges and steps;
    a month or day name only on its own (ranges or lists of names are not allowed)."""
    if text.lower() in names:
        return {names[text.lower()]}
    values: set[int] = set()
    for item in text.split(","):
        m = re.fullmatch(r"(\*|([0-9]+)(?:-([0-9]+))?)(?:/([0-9]+))?", item)
        if not m:
            raise CronSyntaxError(f"{name}: {item!r} is not a number, range, * or step")
        star, first, last, step = m.group(1) == "*", m.group(2), m.group(3), m.group(4)
        if step is not None and not star and last is None:
            raise CronSyntaxError(f"{name}: a step needs a range or * ({item!r})")
        start, end = (low, high) if star else (int(first), int(last if last is not None else first))
        if not low <= start <= high or not low <= end <= high:
            raise CronSyntaxError(f"{name}: {item!r} is outside {low}-{high}")
        if start > end:
            raise CronSyntaxError(f"{name}: the range {item!r} runs backwards")
        by = int(step) if step is not None else 1
        if by < 1:
            raise CronSyntaxError(f"{name}: a step of {by}")
        values |= set(range(start, end + 1, by))
    return values


@dataclass(frozen=True)
class CronJob:
    line: int
    times: tuple[set[int], ...] | None  # None for a macro
    macro: str | None
    user: str
    command: str


def parse_cron_d(text: str) -> list[CronJob]:
    """The jobs of an /etc/cron.d file (five time fields or a macro, a user, a command); CronSyntaxError if off."""
    if not text.endswith("\n"):
        raise CronSyntaxError("the last line has no newline (cron ignores it)")
    jobs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        try:
            if not line or line.startswith("#"):
                continue
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
                continue  # an environment setting (SHELL, PATH, MAILTO)
            words = line.split(None, 6 if not line.startswith("@") else 2)
            if line.startswith("@"):
                if words[0] not in MACROS or len(words) < 3:
                    raise CronSyntaxError(f"{words[0]!r}: not a macro, or no user and command")
                times, macro, user, command = None, words[0], words[1], words[2]
            else:
                if len(words) < 7:
                    raise CronSyntaxError(f"five time fields, a user and a command expected, got {len(words)} words")
                times = tuple(parse_cron_field(w, *field) for w, field in zip(words[:5], FIELDS, strict=True))
                macro, user, command = None, words[5], words[6]
            if not _USER.match(user):
                raise CronSyntaxError(f"{user!r} is not a user name")
            if re.search(r"(?<!\\)%", command):
                raise CronSyntaxError("an unescaped % in the command (cron turns it into a newline)")
            jobs.append(CronJob(number, times, macro, user, command))
        except CronSyntaxError as e:
            raise CronSyntaxError(f"line {number}: {e}") from None
    return jobs


def minutes_of_the_week(job: CronJob) -> list[int]:
    """When a job runs, as minutes since Sunday 00:00, for a job whose day-of-month and month are *."""
    assert job.times is not None
    minute, hour, dom, month, dow = job.times
    assert dom == set(range(1, 32)) and month == set(range(1, 13)), "only for jobs that run every day of the month"
    days = {d % 7 for d in dow}
    return sorted(d * 1440 + h * 60 + m for d in days for h in hour for m in minute)


def the_cron() -> list[CronJob]:
    return parse_cron_d(CRON.read_text(encoding="utf-8"))


def test_the_cron_table_passes_a_strict_parser_of_cron_d_lines() -> None:
    jobs = the_cron()
    assert len(jobs) == 2 and all(j.user == "marketrec" for j in jobs)


@pytest.mark.parametrize(("field", "index", "expected"), [
    ("*/15", 0, {0, 15, 30, 45}), ("1-5", 4, {1, 2, 3, 4, 5}), ("0,30", 0, {0, 30}), ("9-17/4", 1, {9, 13, 17}),
    ("jan", 3, {1}), ("SUN", 4, {0}), ("7", 4, {7}), ("1-3,10-20/5,31", 2, {1, 2, 3, 10, 15, 20, 31}),
])
def test_the_cron_field_parser_reads_ranges_steps_lists_and_names(field: str, index: int, expected: set[int]) -> None:
    assert parse_cron_field(field, *FIELDS[index]) == expected


@pytest.mark.parametrize(("field", "index"), [
    ("60", 0), ("24", 1), ("0", 2), ("13", 3), ("8", 4), ("5-3", 0), ("*/0", 0), ("5/10", 0), ("mon-fri", 4),
    ("jan,feb", 3), ("", 0), ("1,,2", 0), ("*/x", 0), ("-1", 0), ("monday", 4),
])
def test_the_cron_field_parser_rejects_a_field_cron_would_refuse(field: str, index: int) -> None:
    with pytest.raises(CronSyntaxError):
        parse_cron_field(field, *FIELDS[index])


@pytest.mark.parametrize("line", [
    "0 * * * marketrec /bin/true\n",  # four time fields
    "0 * * * * /bin/true\n",  # no user
    "0 * * * * marketrec date +%s\n",  # % is a newline to cron
    "@sometimes marketrec /bin/true\n",
    "0 * * * * marketrec /bin/true",  # no final newline
])
def test_the_cron_line_parser_rejects_a_line_cron_would_refuse(line: str) -> None:
    with pytest.raises(CronSyntaxError):
        parse_cron_d(line)


def test_every_cron_job_runs_a_marketrec_command_with_options_that_exist() -> None:
    commands = {}
    for job in the_cron():
        invocations = marketrec_commands(job.command)
        assert len(invocations) == 1, f"line {job.line}: {job.command}"
        [argv] = invocations
        commands[argv[0]] = check_invocation(argv)
    assert set(commands) == {"collect", "build"}
    assert commands["collect"]["--config"] == CONFIG
    assert commands["build"]["--data"] == f"{DATA_ROOT}/data"  # where the unit lets the collector write


def test_the_hourly_collection_stops_and_flushes_before_the_next_one_starts() -> None:
    [collect] = [j for j in the_cron() if "marketrec collect" in j.command]
    argv = marketrec_commands(collect.command)[0]
    duration = parse_duration(argv[argv.index("--duration") + 1])
    runs = minutes_of_the_week(collect)
    gaps = [(b - a) % (7 * 1440) or 7 * 1440 for a, b in zip(runs, runs[1:] + runs[:1], strict=True)]
    assert len(runs) == 7 * 24, "the collection is meant to run every hour"
    assert duration + 120 <= min(gaps) * 60, f"a {duration:.0f} s run leaves under two minutes before the next"


def test_the_nightly_build_runs_once_a_day_after_a_collection_has_stopped() -> None:
    [build] = [j for j in the_cron() if "marketrec build" in j.command]
    [collect] = [j for j in the_cron() if "marketrec collect" in j.command]
    argv = marketrec_commands(collect.command)[0]
    duration_min = parse_duration(argv[argv.index("--duration") + 1]) / 60
    runs = minutes_of_the_week(build)
    assert len(runs) == 7
    collecting = [(start, start + duration_min) for start in minutes_of_the_week(collect)]
    assert not [r for r in runs for a, b in collecting if a <= r < b], "the build starts while a collection runs"
