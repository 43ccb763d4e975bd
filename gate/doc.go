// Package gate decides, from measured figures only, whether cutover (the
// application moves from blue to green) or rollback (back to blue) is safe
// now. It is pure: the caller gathers the figures (direction stats, the
// last verify run) and the thresholds; Decide returns the verdict with
// every unmet condition named with its figure.
//
// Cutover is safe when blue-to-green runs with lag at most MaxLag,
// green-to-blue runs (so writes made on green after the cutover reach
// blue and a rollback loses nothing), the last verify is at most
// VerifyMaxAge old and found no divergence, no conflict is unresolved, and
// neither direction failed within ErrorWindow. Rollback is the mirror,
// with green-to-blue's lag.
//
// The status is FAIL when a condition is measured and unmet, PENDING when
// none fails but one cannot be measured yet (no verify recorded, a
// direction still starting), and PASS otherwise. Safe is true for PASS
// only.
package gate
