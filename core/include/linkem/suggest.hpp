// "Did you mean ...?": the nearest known word to a misspelt one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linkem {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(std::string_view a, std::string_view b);

// The known word closest to `word`, when it is close enough to be a likely typo
// (distance at most 1 for words of up to 4 characters, otherwise a third of the
// length, at most 3, and less than the longer word's length); ties go to the
// first in `known`.
std::optional<std::string> nearest_word(std::string_view word, const std::vector<std::string> &known);

// "a, b, c": for messages that list what is accepted; long lists end in "... (N more)".
std::string join(const std::vector<std::string> &words, std::string_view separator = ", ", size_t max_words = 12);

}  // namespace linkem
