#!/usr/bin/env python3
"""Writes the ResNet declarations (He et al. 2016, CIFAR variant: 3 stages of n basic blocks, 16/32/64 filters,
projection shortcuts where the size changes; no conv biases, BatchNorm after every convolution, as in PyTorch). ResNet-20 is n = 3, ResNet-56 is n = 9 (depth 6n + 2).
usage: python3 make_resnets.py   (rewrites Zoo/ResNet20.cs, Zoo/ResNet56.cs and Cifar/ResNet20Gray.cs)"""
import os

def resnet(name, n, shape, doc):
    L = []
    add = L.append
    add(f"/// <summary>{doc}</summary>")
    add(f"[Network({', '.join(map(str, shape))})]")
    add(f"public partial class {name}")
    add("{")
    add("    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer Stem { get; }")
    add("    [BatchNorm2D, Relu] public partial Layer StemBn { get; }")
    prev = "StemBn"
    for s, f in enumerate([16, 32, 64], start=1):
        for b in range(1, n + 1):
            p = f"S{s}B{b}"
            stride = 2 if s > 1 and b == 1 else 1
            add(f"    [Conv2D({f}, 3, {stride}, 1, Bias = false)] public partial Layer {p}Conv1 {{ get; }}")
            add(f"    [BatchNorm2D, Relu] public partial Layer {p}Bn1 {{ get; }}")
            add(f"    [Conv2D({f}, 3, padding: 1, Bias = false)] public partial Layer {p}Conv2 {{ get; }}")
            add(f"    [BatchNorm2D] public partial Layer {p}Bn2 {{ get; }}")
            if stride == 2:
                add(f"    [Conv2D({f}, 1, 2, Input = nameof({prev}), Bias = false)] public partial Layer {p}Proj {{ get; }}   // projection shortcut")
                add(f"    [BatchNorm2D] public partial Layer {p}ProjBn {{ get; }}")
                add(f"    [Add(nameof({p}Bn2))] public partial Layer {p}Sum {{ get; }}")
            else:
                add(f"    [Add(nameof({prev}))] public partial Layer {p}Sum {{ get; }}                          // identity shortcut")
            add(f"    [Relu] public partial Layer {p}Out {{ get; }}")
            prev = f"{p}Out"
    add("    [GlobalAvgPool] public partial Layer Pool { get; }")
    add("    [Dense(10)] public partial Layer Logits { get; }")
    add("    [SoftmaxCrossEntropy] public partial Loss Loss { get; }")
    add("}")
    return "\n".join(L)

header = "// Written by Zoo/make_resnets.py: ResNets for CIFAR (He et al. 2016, section 4.2), basic blocks, projection shortcuts.\nusing ModelGen;\n\nnamespace {ns};\n\n"
here = os.path.dirname(os.path.abspath(__file__))
def write(path, ns, body):
    with open(os.path.join(here, path), "w") as f:
        f.write(header.format(ns=ns) + body + "\n")
write("ResNet20.cs", "Zoo", resnet("ResNet20", 3, (3, 32, 32), "ResNet-20 for CIFAR-10 (3×32×32): 19 convolutions + 1 dense layer."))
write("ResNet56.cs", "Zoo", resnet("ResNet56", 9, (3, 32, 32), "ResNet-56 for CIFAR-10 (3×32×32): 55 convolutions + 1 dense layer."))
# Samples/Cifar links Zoo/ResNet20.cs and adds only the 28×28 grey variant for its Fashion-MNIST fallback.
write(os.path.join("..", "Cifar", "ResNet20Gray.cs"), "Cifar", resnet("ResNet20Gray", 3, (1, 28, 28), "ResNet-20 for 28×28 grey images (the Fashion-MNIST fallback)."))
