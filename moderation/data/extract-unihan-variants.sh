#!/bin/sh
# Regenerates unihan-variants.txt from the Unihan database as Debian ships it (package
# unicode-data): the kZVariant, kSemanticVariant and kSpoofingVariant fields, with the
# dictionary sources after each target removed.
set -eu
source="${1:-/usr/share/unicode/Unihan_Variants.txt.bz2}"
out="$(dirname "$0")/unihan-variants.txt"
version="$(bzcat "$source" | sed -n 's/^# Unicode version: //p')"
{
    echo "# Extract of Unihan_Variants.txt, Unicode $version (https://www.unicode.org/reports/tr38/),"
    echo "# © Unicode, Inc., under the Unicode License (https://www.unicode.org/license.txt)."
    echo "# Fields kZVariant, kSemanticVariant and kSpoofingVariant; regenerate with"
    echo "# extract-unihan-variants.sh."
    bzcat "$source" \
        | grep -P '^U\+[0-9A-F]+\t(kZVariant|kSemanticVariant|kSpoofingVariant)\t' \
        | sed -E 's/<[^ ]*//g'
} > "$out"
