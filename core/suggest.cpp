#include "linkem/suggest.hpp"

#include <algorithm>

namespace linkem {

size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rolling rows: the transposition step looks two rows back.
    std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) current[j] = std::min(current[j], before[j - 2] + 1);
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::optional<std::string> nearest_word(std::string_view word, const std::vector<std::string> &known) {
    constexpr size_t kLongestWord = 64;  // nobody mistypes a longer word; keeps the cost bounded
    if (word.size() > kLongestWord) return std::nullopt;
    const size_t limit = word.size() <= 4 ? 1 : std::min<size_t>(3, word.size() / 3);
    std::optional<std::string> best;
    size_t best_distance = limit + 1;
    for (const std::string &candidate : known) {
        // The distance is at least the difference in length: skip hopeless candidates cheaply.
        const size_t length_gap = candidate.size() > word.size() ? candidate.size() - word.size() : word.size() - candidate.size();
        if (length_gap > limit) continue;
        const size_t d = edit_distance(word, candidate);
        // A distance as long as the words means nothing in common ("c" vs "a").
        if (d < best_distance && d < std::max(word.size(), candidate.size())) {
            best_distance = d;
            best = candidate;
        }
    }
    return best;
}

std::string join(const std::vector<std::string> &words, std::string_view separator, size_t max_words) {
    std::string out;
    for (size_t i = 0; i < words.size() && i < max_words; ++i) {
        if (i != 0) out += separator;
        out += words[i];
    }
    if (words.size() > max_words) out += std::string(separator) + "... (" + std::to_string(words.size() - max_words) + " more)";
    return out;
}

}  // namespace linkem
