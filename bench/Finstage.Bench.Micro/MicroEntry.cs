using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Finstage.Bench.Micro;

/// <summary>Runs the micro-benchmarks: <c>dotnet run -c Release --project bench/Finstage.Bench.Micro -- --filter '*'</c>.</summary>
public static class MicroEntry
{
    public static void Main(string[] args)
    {
        // In-process: the default toolchain generates and builds a project under this repository,
        // where warnings are errors and analyzers flag generated code.
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(Path.Combine(FindBenchOut(), "micro"));
        BenchmarkSwitcher.FromAssembly(typeof(MicroEntry).Assembly).Run(args, config);
    }

    private static string FindBenchOut()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Finstage.sln")))
            {
                return Path.Combine(dir.FullName, "bench", "out");
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "bench-out");
    }
}
