package classify

import "fmt"

// TrainFromDir trains on the training split of the shared data directory
// (see LoadDir) plus the hand-written sensitive-topic questions, and
// evaluates on the held-out split plus the hand-written evaluation
// questions. It is what `genguard classifier train` runs.
func TrainFromDir(dir string, opts TrainOptions) (*Model, Report, error) {
	train, heldOut, err := splitDir(dir)
	if err != nil {
		return nil, Report{}, err
	}
	m, err := Train(train, opts)
	if err != nil {
		return nil, Report{}, err
	}
	return m, Eval(m, heldOut), nil
}

// EvalFromDir evaluates m on exactly the examples TrainFromDir holds out,
// so a model trained there is never scored on rows it saw. It is what
// `genguard classifier eval` runs.
func EvalFromDir(m *Model, dir string) (Report, error) {
	_, heldOut, err := splitDir(dir)
	if err != nil {
		return Report{}, err
	}
	return Eval(m, heldOut), nil
}

func splitDir(dir string) (train, heldOut []Example, err error) {
	all, err := LoadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	hwTrain, hwEval, err := HandWritten()
	if err != nil {
		return nil, nil, fmt.Errorf("hand-written examples: %w", err)
	}
	train, heldOut = Split(all)
	return append(train, hwTrain...), append(heldOut, hwEval...), nil
}
