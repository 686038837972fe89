// Test helper: wait for a state the code under test reaches on its own, instead of sleeping
// a guessed number of ms and hoping it got there (which fails on a loaded machine). There is
// no time bound here: a state never reached is a hang, ended by the test's own timeout.
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1))
}
