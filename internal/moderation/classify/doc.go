// Package classify is genguard's statistical content classifier: a character
// n-gram, feature-hashed, multinomial logistic-regression model trained in Go.
//
// It complements the keyword lexicon (the primary control): the lexicon
// catches known terms, the classifier catches phrasings no list anticipates.
// Every class maps to TC260-003 Appendix A risk codes (package risk), and every
// prediction carries the n-grams that pushed it, because an unexplained block
// is the most common user complaint.
//
// The package also trains and evaluates that model on the public datasets in
// ../shared/data (JADE-DB, COLD, KdConv) plus hand-written benign questions
// about sensitive topics (testdata/), and embeds the trained default model.
// External guard models (Qwen3Guard, OpenAI moderations) live in the guard
// sub-package.
package classify
