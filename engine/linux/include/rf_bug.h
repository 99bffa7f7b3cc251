/* SPDX-License-Identifier: MIT */
/* Instrumentation of the bug benchmark's injected bugs (patches/bugs/): each
 * bug patch calls rf_bug_reached() where its mutated code runs and
 * rf_bug_triggered(cond) where the broken state it introduces would show,
 * with cond true when it holds (Magma's "reached" and "triggered"). A run
 * then tells apart a strategy that never got to the code, one that got
 * there without the state that makes it a bug, and one whose oracles saw
 * the bug (detected). Implemented by engine/linux/bug.cc; callable from any
 * context, NMI included (a counter and, once per process, an async-signal-
 * safe write). */
#ifndef RF_BUG_H
#define RF_BUG_H

#ifdef __cplusplus
extern "C" {
#endif

void rf_bug_reached(void);
void rf_bug_triggered(int cond);
/* Tasks inside rcu_read_lock_trace() right now (task context only; from an
 * interrupt handler it is -1): a trigger of the bugs that free behind the
 * wrong grace period. */
int rf_bug_trace_readers(void);

#ifdef __cplusplus
}
#endif

#endif /* RF_BUG_H */
