using ModelGen;

namespace Regression;

// One small MLP shape (10 standardised inputs → 16 tanh → 1), trained with each regression loss.
// A loss's parameter is part of the declaration, so each τ is its own class.

[Network(10)]
public partial class MseNet
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Mse] public partial Loss Loss { get; }
}

[Network(10)]
public partial class MaeNet
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Mae] public partial Loss Loss { get; }
}

[Network(10)]
public partial class HuberNet
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Huber(1.0)] public partial Loss Loss { get; }
}

[Network(10)]
public partial class Quantile10Net
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Quantile(0.1)] public partial Loss Loss { get; }
}

[Network(10)]
public partial class Quantile50Net
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Quantile(0.5)] public partial Loss Loss { get; }
}

[Network(10)]
public partial class Quantile90Net
{
    [Dense(16), Tanh] public partial Layer Hidden { get; }
    [Dense(1)] public partial Layer Output { get; }
    [Quantile(0.9)] public partial Loss Loss { get; }
}
