#!/usr/bin/env bash
# With CONFIG_DYNACCEL=n the patched source must compile to the unpatched
# kernel: the series costs nothing to a kernel built without it. This builds
# the patched tree (build/linux) with the unpatched kernel's configuration
# into build/obj-off, and compares every object file with the unpatched
# kernel's (bench/base-kernel.sh, build/bench/base/obj) by its disassembly
# with relocations. TAP, one line per finding:
#
#   scripts/check-config-off.sh     (make check-config-off; two kernel
#                                    builds the first time, ~40 min here)
#
# Functions are compared by name, in any order (the compiler may lay them
# out otherwise, or split a static function out of line once). An object is
# "identical" when every function has the same instructions, constants and
# relocations; "constants only" when they differ in numbers alone (WARN's
# line numbers, string and function offsets, as lines move in a patched
# file); "different" when an instruction differs, which fails. Data
# sections are not compared.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kbuild.sh"

TREE=$BUILD/linux
# build/obj-off sits beside build/obj and build/linux as build/obj does,
# so that ccache, which sees paths relative to the checkout, can hit.
OBJ=$BUILD/obj-off
BASE_OBJ=$BUILD/bench/base/obj
LOG=$BUILD/logs/check-config-off.log
OUT=$BUILD/config-off

# The code of one object: its disassembly with relocations, function by
# function in the order of their names, without the addresses (of each
# instruction, and of jump targets with the symbol objdump guesses for
# them: a relocation line names the real one).
code() {
	objdump -dr --no-show-raw-insn "$1" | sed -e '1,/file format/d' |
		awk '/^[0-9a-f]+ <.*>:$/ { name = $2 } name != "" { print name "\t" $0 }' |
		sort -s -t"$(printf '\t')" -k1,1 | cut -f2- |
		sed -E -e 's/^[0-9a-f]+ </</' -e 's/^[[:space:]]*[0-9a-f]+:/A:/' \
			-e 's/[0-9a-f]+ <[^>]*>/J/g'
}

# The same with every other number masked too: immediates and offsets.
# What is left is the instructions, their registers and relocation kinds.
shape() {
	code "$1" | sed -E -e 's/0x[0-9a-f]+/N/g' -e 's/\b[0-9][0-9a-f]*\b/N/g'
}

build_off() {
	local fragment=$OUT/off.config
	mkdir -p "$OUT"
	echo 'CONFIG_DYNACCEL=n' >"$fragment"
	info "configuring the patched tree with the unpatched kernel's .config, CONFIG_DYNACCEL=n"
	kbuild_config "$TREE" "$OBJ" "$LOG" "$BASE_OBJ/.config" "$fragment"
	kbuild_bzimage "$TREE" "$OBJ" "$LOG" "the patched kernel without CONFIG_DYNACCEL"
}

# Objects of the kernel image: not the boot stub's, not vmlinux.o, not
# modules' glue.
objects() {
	(cd "$BASE_OBJ" && find . -name '*.o' ! -name '*.mod.o' ! -name 'vmlinux.o' \
		! -path './arch/x86/boot/*' ! -path './scripts/*' ! -path './tools/*' | sort)
}

compare() {
	local o same=0 consts=0 diff=0 missing=0 n=0 total
	: >"$OUT/constants-only.txt"
	: >"$OUT/different.txt"
	: >"$OUT/missing.txt"
	total=$(objects | wc -l)
	info "comparing $total objects (lists in ${OUT#"$DYNACCEL_ROOT"/}/)"
	while read -r o; do
		n=$((n + 1))
		[ $((n % 200)) -ne 0 ] || info "  $n of $total"
		if [ ! -f "$OBJ/$o" ]; then
			echo "${o#./}" >>"$OUT/missing.txt"
			missing=$((missing + 1))
		elif cmp -s <(code "$BASE_OBJ/$o") <(code "$OBJ/$o"); then
			same=$((same + 1))
		elif cmp -s <(shape "$BASE_OBJ/$o") <(shape "$OBJ/$o"); then
			echo "${o#./}" >>"$OUT/constants-only.txt"
			consts=$((consts + 1))
		else
			echo "${o#./}" >>"$OUT/different.txt"
			diff=$((diff + 1))
		fi
	done < <(objects)
	echo "# $same identical, $consts differ in constants only, $diff differ in instructions, $missing missing, of $total"
	sed 's/^/# constants only: /' "$OUT/constants-only.txt"
	tap $((missing == 0)) "every object of the unpatched kernel is built ($missing missing)"
	sed 's/^/# different: /' "$OUT/different.txt"
	tap $((diff == 0)) "every object has the unpatched kernel's instructions ($same identical, $consts constants only, $diff different)"
}

n_tap=0
tap() {
	n_tap=$((n_tap + 1))
	if [ "$1" = 1 ]; then echo "ok $n_tap $2"; else echo "not ok $n_tap $2"; FAILED=1; fi
}

# The text segment of vmlinux (code and read-only data), as size(1) counts it.
text_size() {
	size "$1/vmlinux" | awk 'NR == 2 { print $1 }'
}

main() {
	FAILED=0
	[ -d "$TREE/.git" ] || die "no kernel tree at build/linux; run 'make' first"
	mkdir -p "$BUILD/logs" "$OUT"
	: >"$LOG"
	"$DYNACCEL_ROOT/bench/base-kernel.sh"
	build_off
	echo "TAP version 13"
	echo "1..4"
	tap "$(cmp -s <(grep -v -e DYNACCEL -e '^#' "$BASE_OBJ/.config") \
		<(grep -v -e DYNACCEL -e '^#' "$OBJ/.config") && echo 1 || echo 0)" \
		"both kernels have the same configuration, CONFIG_DYNACCEL aside"
	compare
	tap "$([ "$(text_size "$BASE_OBJ")" = "$(text_size "$OBJ")" ] && echo 1 || echo 0)" \
		"vmlinux text: $(text_size "$BASE_OBJ") bytes unpatched, $(text_size "$OBJ") patched without CONFIG_DYNACCEL"
	return "$FAILED"
}

main "$@"
