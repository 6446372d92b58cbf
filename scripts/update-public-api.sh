#!/usr/bin/env bash
# Rewrites the record of every package's public surface after an intended change to it:
#   src/Core, src/Dataflow and src/Testing PublicAPI.Unshipped.txt (the Roslyn public API analyzer's files,
#   refilled from the code by its own code fix), and src/FSharp/PublicAPI.txt (written by the surface test of
#   tests/Nursery.FSharp.Tests, F# having no analyzer).
# The build fails (RS0016, RS0017) while the C# files and the code disagree, and the F# test fails while its file does;
# review the diff of the files, then commit them with the change. PublicAPI.Shipped.txt is edited by hand at a release
# (its lines move there from Unshipped); this script leaves it alone.
set -euo pipefail
cd "$(dirname "$0")/.."

for project in src/Core/Nursery.Core.csproj src/Dataflow/Nursery.Dataflow.csproj src/Testing/Nursery.Testing.csproj; do
    unshipped="$(dirname "$project")/PublicAPI.Unshipped.txt"
    printf '#nullable enable\n' > "$unshipped"
    dotnet format analyzers "$project" --diagnostics RS0016 --severity warn
    echo "$unshipped: $(grep -vc '^#' "$unshipped") entries"
done

NURSERY_UPDATE_PUBLIC_API=1 dotnet test tests/Nursery.FSharp.Tests --filter "FullyQualifiedName~PublicApi" -v q
echo "src/FSharp/PublicAPI.txt: $(wc -l < src/FSharp/PublicAPI.txt) entries"
