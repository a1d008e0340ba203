#!/usr/bin/env bash
# Checks that what the docs and comments point at exists: every relative link in a Markdown file,
# and every repository path (docs/…, scripts/…, services/…) that a comment or doc names in code
# spans. A renamed or never-merged file otherwise leaves a pointer to nothing that no build sees.
# Prints each broken reference as FILE: TARGET and exits 1 when there is one.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

broken=0
report() { echo "$1: $2 does not exist" >&2; broken=1; }

# Relative Markdown links: [text](target) and [text](target#anchor), not URLs or pure anchors.
while IFS= read -r doc; do
  dir="$(dirname "$doc")"
  while IFS= read -r target; do
    target="${target%%#*}"
    [ -n "$target" ] || continue
    case "$target" in
      http://* | https://* | mailto:*) continue ;;
    esac
    [ -e "$dir/$target" ] || git check-ignore -q "$dir/$target" || report "$doc" "$target"
  done < <(grep -oE '\]\([^) ]+\)' "$doc" | sed -E 's/^\]\(//; s/\)$//')
done < <(git ls-files '*.md')

# Repository paths named in source, scripts and docs. A path after "../" is outside the repository
# (the team's shared folder and fixtures), and one with a placeholder (<…>, {…}, *) names a pattern, not a file.
path_pattern='(^|[^./A-Za-z0-9_-])(docs|scripts|services|shared|tests|tools|bench)/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\.(md|sh|cs|csproj|json|conf|yml|yaml|props|xml|txt)'
while IFS= read -r file; do
  while IFS= read -r target; do
    target="$(echo "$target" | sed -E 's/^[^a-z]//')"
    # Outputs (bench results, test reports) are git-ignored and exist only after a run.
    [ -e "$target" ] || git check-ignore -q "$target" || report "$file" "$target"
  done < <(grep -oE "$path_pattern" "$file" | sort -u)
done < <(git ls-files '*.cs' '*.sh' '*.md' '*.csproj' '*.yml' | grep -v '/Migrations/')

if [ $broken -eq 0 ]; then
  echo "references: every relative link and cited repository path exists"
fi
exit $broken
