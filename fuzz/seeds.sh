#!/usr/bin/env bash
# Seeds for the fuzzers: every command of the built-in table with 0 to 3 arguments, as a MONITOR
# line (the argument words steer the special key rules: a count, a STORE, a KEYS), and a
# dictionary of the command names and keywords, so the fuzzers reach every command's key rules.
#
# Usage: fuzz/seeds.sh      (writes fuzz/corpus/{parse_line,pipeline}/ and fuzz/commands.dict)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/parse_line corpus/pipeline
names=$(cat ../src/commands/*.tsv | grep -v '^#' | cut -f1 | grep -v '^$' | sort -u)
words=("k" "2" "store" "keys" "streams" "auth")
{
    for name in $names; do
        printf '"%s"\n' "${name%%|*}"
        [[ $name == *'|'* ]] && printf '"%s"\n' "${name#*|}"
    done
    for w in "${words[@]}" limit by get weights aggregate block count group noack auth2 copy replace \
        storedist withdist setname hello requirepass '(redacted)' '1795636306.848848 [0 127.0.0.1:1] ' \
        '" "' '\\x' '\\"' '+OK' '-ERR'; do
        printf '"%s"\n' "$w"
    done
} | sort -u > commands.dict
n=0
for name in $names; do
    call="\"${name%%|*}\""
    [[ $name == *'|'* ]] && call="$call \"${name#*|}\""
    for extra in 0 1 2 3; do
        line="1795636306.$(printf %06d $n) [0 127.0.0.1:5000] $call"
        for ((i = 0; i < extra; i++)); do
            line="$line \"${words[$(((n + i) % ${#words[@]}))]}\""
        done
        printf '%s\n' "$line" > "corpus/parse_line/cmd-$n"
        printf '%s\n%s\n' "$line" "1795636306.$(printf %06d $((n + 1))) [0 127.0.0.1:5000] \"get\" \"k\"" > "corpus/pipeline/cmd-$n"
        n=$((n + 1))
    done
done
# The command_table target: the hand-made tables of tests/it/commands_file.rs, and a server's own
# table when a redis-server is at hand (REDIS_PORT, default none).
mkdir -p corpus/command_table
sed -n '/^const TABLE: &str = r#"/,/^]"#;/p' ../tests/it/commands_file.rs | sed '1s/^const TABLE: &str = r#"//; $s/"#;$//' \
    > corpus/command_table/hand-made
if [[ -n ${REDIS_PORT:-} ]]; then
    redis-cli -p "$REDIS_PORT" --json COMMAND > corpus/command_table/server
fi
echo "$n seeds in fuzz/corpus/{parse_line,pipeline}, $(wc -l < commands.dict) words in fuzz/commands.dict," \
    "$(ls corpus/command_table | wc -l) in fuzz/corpus/command_table"
