//! zstd-style short forms, rewritten into pcz's subcommand form before clap parses them:
//! `pcz -dc FILE` is `pcz decompress -c FILE`, `pcz -q -z FILE` is `pcz compress -q FILE`,
//! and `-1` to `-9` after `compress` are `--level 1` to `--level 9`. zstd users type these
//! by habit, and clap alone cannot read a subcommand out of a bundle of short flags.

use clap::CommandFactory;
use std::ffi::OsString;

/// `args` (the program name first) in subcommand form. `-d`/`--decompress` or
/// `-z`/`--compress` among the options before the first input or `--`, also inside a bundle
/// (`-cd`), becomes the subcommand; the options before it follow it, and the rest of its
/// bundle follows as single flags (`-dcf` is `decompress -c -f`). Anything else (a
/// subcommand first, `--help`, `-V`) is left as it is.
pub(super) fn rewrite(args: Vec<OsString>) -> Vec<OsString> {
    let args = lift_mode(args);
    if args.get(1).is_some_and(|a| a == "compress") {
        return with_levels(args);
    }
    args
}

/// Moves the first `-d`/`-z` before any input to the front as the subcommand.
fn lift_mode(args: Vec<OsString>) -> Vec<OsString> {
    let valued = Valued::of_cli();
    let mut value_next = false;
    for (i, arg) in args.iter().enumerate().skip(1) {
        if std::mem::take(&mut value_next) {
            continue;
        }
        let Some(text) = arg.to_str() else {
            return args;
        };
        if text == "--" || text == "-" || !text.starts_with('-') {
            return args;
        }
        if let Some(long) = text.strip_prefix("--") {
            let mode = match long {
                "decompress" => "decompress",
                "compress" => "compress",
                _ => {
                    value_next = !long.contains('=') && valued.longs.iter().any(|l| l == long);
                    continue;
                }
            };
            return lifted(&args, i, mode, Vec::new());
        }
        let bundle = Bundle::split(&text[1..], &valued);
        match bundle.mode {
            Some(mode) => return lifted(&args, i, mode, bundle.flags),
            None => value_next = bundle.value_next,
        }
    }
    args
}

/// `args` with `mode` first, found at `at`, whose bundle leaves `flags`.
fn lifted(args: &[OsString], at: usize, mode: &str, flags: Vec<String>) -> Vec<OsString> {
    let mut out = vec![args[0].clone(), mode.into()];
    out.extend_from_slice(&args[1..at]);
    out.extend(flags.into_iter().map(OsString::from));
    out.extend_from_slice(&args[at + 1..]);
    out
}

/// One bundle of short flags (`-cdf`, `-dT2`), without its dash.
struct Bundle {
    /// The subcommand its `d` or `z` names.
    mode: Option<&'static str>,
    /// Its other flags, one per argument; an option that takes a value keeps the rest of
    /// the bundle as that value (`-T2`).
    flags: Vec<String>,
    /// Whether its last flag takes the next argument as its value (`-o out`).
    value_next: bool,
}

impl Bundle {
    fn split(bundle: &str, valued: &Valued) -> Bundle {
        let mut split = Bundle {
            mode: None,
            flags: Vec::new(),
            value_next: false,
        };
        for (at, c) in bundle.char_indices() {
            match c {
                'd' if split.mode.is_none() => split.mode = Some("decompress"),
                'z' if split.mode.is_none() => split.mode = Some("compress"),
                c if valued.shorts.contains(&c) => {
                    let value = &bundle[at + c.len_utf8()..];
                    split.flags.push(format!("-{c}{value}"));
                    split.value_next = value.is_empty();
                    break;
                }
                c => split.flags.push(format!("-{c}")),
            }
        }
        split
    }
}

/// The options of `compress`, `decompress` and the global ones that take the next
/// argument as their value, so that a value such as `-o -d` is not read as a flag.
struct Valued {
    shorts: Vec<char>,
    longs: Vec<String>,
}

impl Valued {
    fn of_cli() -> Valued {
        let mut cli = super::Cli::command();
        cli.build();
        let mut valued = Valued {
            shorts: Vec::new(),
            longs: Vec::new(),
        };
        let subcommands = cli
            .get_subcommands()
            .filter(|s| ["compress", "decompress"].contains(&s.get_name()));
        for arg in cli
            .get_arguments()
            .chain(subcommands.flat_map(|s| s.get_arguments()))
        {
            if arg.get_action().takes_values() && !arg.is_require_equals_set() {
                valued.shorts.extend(arg.get_short());
                valued.longs.extend(arg.get_long().map(str::to_owned));
            }
        }
        valued
    }
}

/// `compress` arguments with each `-1` to `-9` before `--` spelt `--level=N`.
fn with_levels(mut args: Vec<OsString>) -> Vec<OsString> {
    for arg in args.iter_mut().skip(2).take_while(|a| *a != "--") {
        if let Some(level) = short_level(arg) {
            *arg = format!("--level={level}").into();
        }
    }
    args
}

/// The level `n` of an argument `-n` with n in 1..=9.
fn short_level(arg: &std::ffi::OsStr) -> Option<char> {
    match arg.to_str()?.as_bytes() {
        [b'-', n @ b'1'..=b'9'] => Some(char::from(*n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn rewritten(line: &str) -> String {
        let args = std::iter::once("pcz")
            .chain(line.split(' '))
            .map(OsString::from)
            .collect();
        let out: Vec<String> = rewrite(args)
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect();
        out.join(" ")
    }

    #[test]
    fn a_mode_anywhere_among_the_leading_flags_becomes_the_subcommand() {
        for (zstd, pcz) in [
            ("-d f", "decompress f"),
            ("-dc f", "decompress -c f"),
            ("-cd f", "decompress -c f"),
            ("-c -d f", "decompress -c f"),
            ("-d -c f", "decompress -c f"),
            ("-q -d f", "decompress -q f"),
            ("-kd f", "decompress -k f"),
            ("-dcf f", "decompress -c -f f"),
            ("--decompress -c f", "decompress -c f"),
            ("-c --compress f", "compress -c f"),
            ("-dc -", "decompress -c -"),
            ("-z -1 f", "compress --level=1 f"),
            ("-z9 f", "compress --level=9 f"),
            ("-zc6 f", "compress -c --level=6 f"),
        ] {
            assert_eq!(rewritten(zstd), pcz, "{zstd}");
        }
    }

    #[test]
    fn values_of_options_stay_with_them() {
        for (zstd, pcz) in [
            ("-dT2 f", "decompress -T2 f"),
            ("-T2 -d f", "decompress -T2 f"),
            ("-T 2 -d f", "decompress -T 2 f"),
            ("-do x f", "decompress -o x f"),
            ("-o x -d f", "decompress -o x f"),
            ("--output x -z f", "compress --output x f"),
            ("-cT2d f", "-cT2d f"),
            ("-o -d f", "-o -d f"),
            ("--output -d f", "--output -d f"),
        ] {
            assert_eq!(rewritten(zstd), pcz, "{zstd}");
        }
    }

    #[test]
    fn other_command_lines_are_left_alone() {
        for line in [
            "--help",
            "-h",
            "-V",
            "--version",
            "decompress -d",
            "-q train -d",
            "-c f -d",
            "-c -- -d",
            "-",
            "inspect -dc",
        ] {
            assert_eq!(rewritten(line), line);
        }
    }

    #[test]
    fn the_rewritten_forms_parse() {
        let parse = |line: &str| {
            let args: Vec<OsString> = std::iter::once("pcz")
                .chain(line.split(' '))
                .map(OsString::from)
                .collect();
            super::super::Cli::try_parse_from(rewrite(args)).expect(line)
        };
        let cli = parse("-kdc -T2 f.pcz");
        assert_eq!(cli.threads, Some(2));
        match cli.command {
            super::super::Command::Decompress(a) => {
                assert!(a.out.stdout && a.out.keep && a.inputs == [std::path::Path::new("f.pcz")]);
            }
            other => panic!("{other:?}"),
        }
        let cli = parse("-qz7f -o out f");
        assert!(cli.quiet);
        match cli.command {
            super::super::Command::Compress(a) => {
                assert_eq!(a.level, 7);
                assert!(a.out.force && a.out.output.as_deref() == Some("out".as_ref()));
            }
            other => panic!("{other:?}"),
        }
    }
}
