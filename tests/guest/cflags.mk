# SPDX-License-Identifier: GPL-2.0
# How the static in-guest programs are built: included by tests/guest/Makefile
# and bench/guest/Makefile, which set TESTS_DIR (this directory, from theirs)
# before it and list their programs in PROGS.
O ?= .
KSFT_INCLUDE ?= ../../build/linux/tools/testing/selftests

CC ?= gcc
CFLAGS := -O2 -g -Wall -Wextra -Wno-missing-field-initializers -Werror -D_GNU_SOURCE \
	-I$(TESTS_DIR) -I$(KSFT_INCLUDE)
LDFLAGS := -static

# The including Makefile's all, not $(O) below, is what a bare make builds.
.DEFAULT_GOAL := all

$(O):
	mkdir -p $@

clean:
	rm -f $(PROGS)

.PHONY: all clean
