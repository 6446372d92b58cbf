namespace Nursery.Interactive.Tests;

/// <summary>What <see cref="Compile"/> does without a child: the cache, the errors, the names of functions.</summary>
public sealed class CompileTests : IDisposable
{
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("nursery-compile-tests-");

    private CompileOptions Options => new() { CacheDirectory = _cache.FullName };

    private static string Unique => $"{Environment.NewLine}// {Guid.NewGuid():N}{Environment.NewLine}";

    public void Dispose() => _cache.Delete(recursive: true);

    [Theory]
    [InlineData("C#")]
    [InlineData("F#")]
    public void The_second_compile_of_the_same_source_is_served_from_the_cache(string language)
    {
        var source = language == "C#" ? "public static class Twice { public static int Run(int x) => 2 * x; }" + Unique : "module Twice" + Unique + "let run (x: int) = 2 * x";
        var name = language == "C#" ? "Twice.Run" : "Twice.run";
        CompiledAssembly Compiled() => language == "C#" ? Compile.CSharp(source, Options) : Compile.FSharp(source, Options);

        var first = Compiled();
        var second = Compiled();

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Path, second.Path);
        Assert.Same(first.Assembly, second.Assembly);
        Assert.Equal(42, second.Function<int, int>(name)(21));
        // One folder: the compiler ran once.
        Assert.Single(_cache.GetDirectories());
    }

    [Fact]
    public void A_changed_source_is_compiled_again_into_a_folder_of_its_own()
    {
        var first = Compile.CSharp("public static class Add { public static int One(int x) => x + 1; }" + Unique, Options);
        var second = Compile.CSharp("public static class Add { public static int One(int x) => x + 2; }" + Unique, Options);

        Assert.False(second.FromCache);
        Assert.NotEqual(first.Path, second.Path);
        Assert.Equal(2, first.Function<int, int>("Add.One")(1));
        Assert.Equal(3, second.Function<int, int>("Add.One")(1));
    }

    [Fact]
    public void A_CSharp_compile_error_is_a_CompilationException_naming_the_line()
    {
        const string source = """
            public static class Broken
            {
                public static int Run(int x) => x + y;
            }
            """;

        var error = Assert.Throws<CompilationException>(() => Compile.CSharp(source + Unique, Options));

        var only = Assert.Single(error.Errors);
        Assert.Equal(3, only.Line);
        Assert.Equal("CS0103", only.Code);
        Assert.Contains("line 3, column 41: CS0103: The name 'y' does not exist in the current context", error.Message);
        Assert.Contains("Fix the source", error.Message);
        Assert.Empty(_cache.GetDirectories());
    }

    [Fact]
    public void An_FSharp_compile_error_is_a_CompilationException_naming_the_line()
    {
        const string source = """
            module Broken

            let run (x: int) = x + y
            """;

        var error = Assert.Throws<CompilationException>(() => Compile.FSharp(source + Unique, Options));

        var only = Assert.Single(error.Errors);
        Assert.Equal(3, only.Line);
        Assert.Equal("FS0039", only.Code);
        Assert.Contains("line 3, column 24: FS0039: The value or constructor 'y' is not defined", error.Message);
        Assert.Empty(_cache.GetDirectories());
    }

    [Fact]
    public void FSharp_source_without_a_module_line_is_the_module_Cell()
    {
        var compiled = Compile.FSharp("let triple (x: int) = 3 * x" + Unique, Options);

        Assert.Equal(12, compiled.Function<int, int>("Cell.triple")(4));
    }

    [Fact]
    public void A_name_that_is_not_in_the_source_is_refused_with_what_the_source_has()
    {
        var compiled = Compile.CSharp("public static class Shop { public static long Price(int x) => x; }" + Unique, Options);

        var noType = Assert.Throws<ArgumentException>(() => compiled.Function<int, long>("Shops.Price"));
        var wrongSignature = Assert.Throws<ArgumentException>(() => compiled.Function<int, int>("Shop.Price"));

        Assert.Contains("no type 'Shops'. Its public types: Shop", noType.Message);
        Assert.Contains("has no static method System.Int32 Price(System.Int32); it has: System.Int64 Price(System.Int32)", wrongSignature.Message);
    }

    [Fact]
    public void A_reference_that_is_not_a_file_is_refused_before_compiling()
    {
        var options = Options with { References = ["/nowhere/Library.dll"] };

        var error = Assert.Throws<ArgumentException>(() => Compile.CSharp("public static class A { }", options));

        Assert.Contains("CompileOptions.References names '/nowhere/Library.dll', which is not a file", error.Message);
    }
}
