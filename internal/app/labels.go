package app

import (
	"fmt"
	"path/filepath"

	"github.com/genguard/genguard/internal/api"
	"github.com/genguard/genguard/internal/config"
)

// FilesDir is where generated images served by URL live, inside the data
// directory.
const FilesDir = "files"

// labelOptions turns the label section into the API's options, loading
// the signing key.
func labelOptions(cfg config.Config) (api.LabelOptions, error) {
	l := cfg.Label
	signer, err := l.Signer()
	if err != nil {
		return api.LabelOptions{}, fmt.Errorf("label.signing_key: %w", err)
	}
	pos, err := l.Position()
	if err != nil {
		return api.LabelOptions{}, fmt.Errorf("label.notice_position: %w", err)
	}
	audio, err := l.Audio()
	if err != nil {
		return api.LabelOptions{}, fmt.Errorf("label.audio_rhythm: %w", err)
	}
	return api.LabelOptions{
		Producer: l.Producer, Signer: signer, Notice: l.Notice, NoticePosition: pos,
		TextNotice: l.TextNotice, ImageVisible: l.ImageVisible, Audio: audio, AllowUnlabeled: l.AllowUnlabeled,
		MaxUploadBytes: l.MaxUploadBytes,
		FilesDir:       filepath.Join(cfg.DataDir, FilesDir), FileTTL: l.FileTTL.D(), MaxFiles: l.MaxFiles,
	}, nil
}
