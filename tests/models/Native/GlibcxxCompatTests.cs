using System.Reflection;
using StreamDetect.Build;

namespace StreamDetect.Models.Tests.Native;

/// <summary>The build step that makes TorchSharp's native library load on Debian 12 (models/Native).</summary>
public sealed class GlibcxxCompatTests
{
    private const string From = "GLIBCXX_3.4.32";
    private const string To = "GLIBCXX_3.4.30";

    private static string PristineLibrary()
    {
        string root = typeof(GlibcxxCompatTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's native library is not in the NuGet cache at {path}");
        return path;
    }

    [Fact]
    public void The_package_library_needs_the_GCC13_version_that_the_patch_removes()
    {
        byte[] original = File.ReadAllBytes(PristineLibrary());
        Assert.Contains("libstdc++.so.6:" + From, ElfVersionNeedPatcher.NeededVersions(original));

        byte[] patched = (byte[])original.Clone();
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.Patch(patched, From, To));

        var needed = ElfVersionNeedPatcher.NeededVersions(patched);
        Assert.DoesNotContain("libstdc++.so.6:" + From, needed);
        Assert.Contains("libstdc++.so.6:" + To, needed);
        // Only the one Vernaux's hash and name fields (8 bytes) change; the file keeps its size.
        Assert.Equal(original.Length, patched.Length);
        int changed = original.Zip(patched).Count(p => p.First != p.Second);
        Assert.InRange(changed, 1, 8);
    }

    [Fact]
    public void Patching_twice_changes_nothing_the_second_time()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"sd-glibcxx-{Guid.NewGuid():N}.so");
        File.Copy(PristineLibrary(), copy);
        try
        {
            Assert.Equal(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.PatchFile(copy, From, To));
            byte[] once = File.ReadAllBytes(copy);
            Assert.Equal(ElfPatchOutcome.AlreadyCompatible, ElfVersionNeedPatcher.PatchFile(copy, From, To));
            Assert.Equal(once, File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Patching_a_hard_link_leaves_the_other_name_untouched()
    {
        // The build hard-links package files into output folders; the patch must never write through.
        string dir = Directory.CreateTempSubdirectory("sd-glibcxx-").FullName;
        try
        {
            string shared = Path.Combine(dir, "cache.so");
            string output = Path.Combine(dir, "output.so");
            File.Copy(PristineLibrary(), shared);
            Assert.Equal(0, link(shared, output));

            ElfVersionNeedPatcher.PatchFile(output, From, To);

            Assert.Contains("libstdc++.so.6:" + From, ElfVersionNeedPatcher.NeededVersions(File.ReadAllBytes(shared)));
            Assert.DoesNotContain("libstdc++.so.6:" + From, ElfVersionNeedPatcher.NeededVersions(File.ReadAllBytes(output)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int link(string existing, string created);

    [Fact]
    public void The_built_library_loads_on_this_host()
    {
        // Where the host's libstdc++ lacks 3.4.32 the build must have patched the output copy;
        // where it has it, the copy is left as shipped. Either way the version need is satisfiable.
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(output))
        {
            output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        }
        Assert.True(File.Exists(output), "libLibTorchSharp.so is not in the test output");
        string? host = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        Assert.SkipWhen(host is null, "no host libstdc++ found at the usual paths");

        bool hostHas32 = ElfVersionNeedPatcher.FileDefinesVersion(host!, From);
        bool needs32 = ElfVersionNeedPatcher.NeededVersions(File.ReadAllBytes(output)).Contains("libstdc++.so.6:" + From);
        Assert.True(hostHas32 || !needs32, $"{output} still needs {From}, which {host} does not define");
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_refused_with_a_clear_error()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(new byte[128], From, To));
        Assert.Contains("not an ELF file", error.Message);
    }

    [Fact]
    public void The_ELF_hash_matches_the_value_stored_by_the_linker()
    {
        // readelf -V shows vna_hash; these are the System V ABI hash values of the names.
        Assert.Equal(0x08922974u, ElfVersionNeedPatcher.ElfHash("GLIBCXX_3.4"));
    }
}
