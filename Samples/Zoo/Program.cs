using System;
using Zoo;

// The classic architectures of the study note as declarations: each compiles, and the generator's build-time
// summary (shapes, parameters, FLOPs, receptive fields) is printed without allocating the model.
Console.WriteLine(AlexNet.Summary);
Console.WriteLine();
Console.WriteLine(Vgg16.Summary);
Console.WriteLine();
Console.WriteLine(ResNet20.Summary);
Console.WriteLine();
Console.WriteLine($"ResNet-56: {ResNet56.Summary.Split('\n')[^1]}");
Console.WriteLine();
Console.WriteLine($"params: AlexNet {AlexNet.ParameterCount}");
Console.WriteLine($"params: VGG-16 {Vgg16.ParameterCount}");
Console.WriteLine($"params: ResNet-20 {ResNet20.ParameterCount}");
Console.WriteLine($"params: ResNet-56 {ResNet56.ParameterCount}");
return 0;
