package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkParseChat measures request parsing plus the upstream body for a
// 1 KB Chinese prompt, the per-request JSON work on the hot path.
func BenchmarkParseChat(b *testing.B) {
	body, _ := json.Marshal(map[string]any{"model": "demo", "stream": true, "temperature": 0.7,
		"messages": []map[string]string{{"role": "system", "content": "你是一个乐于助人的助手。"}, {"role": "user", "content": strings.Repeat("请介绍一下长城的历史。", 34)}}})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		g, err := chatDialect{}.parse(body)
		if err != nil {
			b.Fatal(err)
		}
		g.upstreamBody("up-model")
	}
}
