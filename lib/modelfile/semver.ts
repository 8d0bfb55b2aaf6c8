// REQUIRES: Ollama adds a missing `v`, checks the result with golang.org/x/mod/semver.IsValid and keeps
// it without the `v`. That grammar allows `v1` and `v1.2` as shorthands, but a pre-release or build
// suffix only after a full major.minor.patch; numbers and numeric pre-release parts have no leading zeros.

const NUMBER = '(?:0|[1-9][0-9]*)';
const PRERELEASE_PART = '(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
const BUILD_PART = '[0-9A-Za-z-]+';
const GO_SEMVER = new RegExp(
  `^v${NUMBER}(?:\\.${NUMBER}(?:\\.${NUMBER}(?:-${PRERELEASE_PART}(?:\\.${PRERELEASE_PART})*)?(?:\\+${BUILD_PART}(?:\\.${BUILD_PART})*)?)?)?$`,
);

/** x/mod/semver.IsValid (the `v` is required). */
export function isGoSemver(v: string): boolean {
  return GO_SEMVER.test(v);
}

/** A REQUIRES value as Ollama stores it (`v0.14.0-rc1` and `0.14.0-rc1` → `0.14.0-rc1`), or undefined if invalid. */
export function normalizeRequires(value: string): string | undefined {
  const v = value.startsWith('v') ? value : `v${value}`;
  return isGoSemver(v) ? v.slice(1) : undefined;
}
