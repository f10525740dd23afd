// Makes TorchSharp's libLibTorchSharp.so load on hosts whose libstdc++ predates GCC 13 (Debian 12).
//
// TorchSharp 0.107 links one symbol, _ZSt21ios_base_library_initv, under the version GLIBCXX_3.4.32.
// That symbol is only a link-time marker (no relocation refers to it), but the dynamic loader still
// refuses the library when the host's libstdc++ does not define the version. We rewrite that one
// version-need entry (.gnu.version_r, the Vernaux naming GLIBCXX_3.4.32) to name a version the host
// has, reusing a string already present in .dynstr. Nothing else in the file changes.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (GlibcxxCompat.targets), where the
// task class below is included, and by the models test project, which defines
// GLIBCXX_COMPAT_NO_TASK and tests the patcher directly. The task factory compiles against
// netstandard2.0, hence no spans and no newer File/OperatingSystem APIs here.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace StreamDetect.Build
{
    /// <summary>Outcome of <see cref="ElfVersionNeedPatcher.Patch"/>.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The file needed the old version and was rewritten.</summary>
        Patched,
        /// <summary>The file does not need the old version (never did, or was patched before).</summary>
        AlreadyCompatible,
    }

    /// <summary>Rewrites a version-need entry of an ELF64 little-endian shared object.</summary>
    public static class ElfVersionNeedPatcher
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>The ELF (SysV) hash of a symbol version name, as stored in vna_hash.</summary>
        public static uint ElfHash(string name)
        {
            uint h = 0;
            foreach (byte c in Encoding.ASCII.GetBytes(name))
            {
                h = (h << 4) + c;
                uint g = h & 0xf0000000;
                if (g != 0) h ^= g >> 24;
                h &= ~g;
            }
            return h;
        }

        /// <summary>Names of every version a library needs, as "file:version" (e.g. "libstdc++.so.6:GLIBCXX_3.4.32").</summary>
        public static IReadOnlyList<string> NeededVersions(byte[] image)
        {
            var result = new List<string>();
            foreach (var aux in EnumerateVernaux(image))
                result.Add(aux.File + ":" + aux.Name);
            return result;
        }

        /// <summary>
        /// Rewrites, in <paramref name="image"/>, every Vernaux that names <paramref name="fromVersion"/>
        /// to name <paramref name="toVersion"/> instead. The new name must already be a string of the
        /// library's .dynstr. Returns whether anything changed.
        /// </summary>
        public static ElfPatchOutcome Patch(byte[] image, string fromVersion, string toVersion)
        {
            var matches = new List<Vernaux>();
            Section? strtab = null;
            foreach (var aux in EnumerateVernaux(image))
            {
                strtab = aux.StringTable;
                if (aux.Name == fromVersion) matches.Add(aux);
            }
            if (matches.Count == 0) return ElfPatchOutcome.AlreadyCompatible;

            int nameOffset = FindString(image, strtab!.Value, toVersion);
            if (nameOffset < 0)
                throw new InvalidDataException(
                    $"cannot patch: the library's .dynstr holds no string '{toVersion}' to point the version need at");

            uint hash = ElfHash(toVersion);
            foreach (var aux in matches)
            {
                WriteU32(image, aux.Offset + 0, hash);           // vna_hash
                WriteU32(image, aux.Offset + 8, (uint)nameOffset); // vna_name
            }
            return ElfPatchOutcome.Patched;
        }

        /// <summary>
        /// Patches a file in place, atomically (a new file is written and renamed over the old one, so a
        /// hard link to a shared copy — e.g. the NuGet cache — is never written through).
        /// </summary>
        public static ElfPatchOutcome PatchFile(string path, string fromVersion, string toVersion)
        {
            byte[] image = File.ReadAllBytes(path);
            var outcome = Patch(image, fromVersion, toVersion);
            if (outcome == ElfPatchOutcome.Patched)
            {
                string temp = path + ".glibcxx-patch.tmp";
                File.WriteAllBytes(temp, image);
                File.Replace(temp, path, destinationBackupFileName: null);
            }
            return outcome;
        }

        /// <summary>Whether a file (e.g. the host's libstdc++.so.6) mentions a version name at all.</summary>
        public static bool FileDefinesVersion(string path, string version)
        {
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            byte[] data = File.ReadAllBytes(path);
            return IndexOf(data, 0, data.Length, needle) >= 0;
        }

        private readonly struct Section
        {
            public Section(long offset, long size) { Offset = offset; Size = size; }
            public long Offset { get; }
            public long Size { get; }
        }

        private readonly struct Vernaux
        {
            public Vernaux(int offset, string file, string name, Section stringTable)
            { Offset = offset; File = file; Name = name; StringTable = stringTable; }
            public int Offset { get; }
            public string File { get; }
            public string Name { get; }
            public Section StringTable { get; }
        }

        private static IEnumerable<Vernaux> EnumerateVernaux(byte[] image)
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (image[4] != 2 || image[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

            long shoff = (long)ReadU64(image, 0x28);
            int shentsize = ReadU16(image, 0x3A);
            int shnum = ReadU16(image, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > image.Length)
                throw new InvalidDataException("ELF section header table is missing or truncated");

            var found = new List<Vernaux>();
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (ReadU32(image, sh + 4) != ShtGnuVerneed) continue;

                var verneed = new Section((long)ReadU64(image, sh + 0x18), (long)ReadU64(image, sh + 0x20));
                int link = (int)ReadU32(image, sh + 0x28);
                uint count = ReadU32(image, sh + 0x2C);
                if (link >= shnum) throw new InvalidDataException(".gnu.version_r links to a missing string table");
                int strSh = checked((int)(shoff + (long)link * shentsize));
                var strtab = new Section((long)ReadU64(image, strSh + 0x18), (long)ReadU64(image, strSh + 0x20));
                CheckInside(image, verneed, ".gnu.version_r");
                CheckInside(image, strtab, ".dynstr");

                long entry = verneed.Offset;
                for (uint n = 0; n < count; n++)
                {
                    CheckRange(image, entry, 16, ".gnu.version_r entry");
                    int cnt = ReadU16(image, (int)entry + 2);
                    string file = ReadString(image, strtab, ReadU32(image, (int)entry + 4));
                    long aux = entry + ReadU32(image, (int)entry + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        CheckRange(image, aux, 16, ".gnu.version_r aux entry");
                        string name = ReadString(image, strtab, ReadU32(image, (int)aux + 8));
                        found.Add(new Vernaux((int)aux, file, name, strtab));
                        uint nextAux = ReadU32(image, (int)aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = ReadU32(image, (int)entry + 12);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return found;
        }

        private static int FindString(byte[] image, Section strtab, string value)
        {
            // Strings are read from an offset to the next NUL, so the tail of a longer string is as good
            // a name as a string of its own: any occurrence of "value\0" is usable.
            byte[] needle = Encoding.ASCII.GetBytes(value + "\0");
            int at = IndexOf(image, (int)strtab.Offset, (int)strtab.Size, needle);
            return at < 0 ? -1 : at - (int)strtab.Offset;
        }

        private static int IndexOf(byte[] data, int start, int length, byte[] needle)
        {
            int last = start + length - needle.Length;
            for (int i = start; i <= last; i++)
            {
                int j = 0;
                while (j < needle.Length && data[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        private static string ReadString(byte[] image, Section strtab, uint offset)
        {
            if (offset >= strtab.Size) throw new InvalidDataException("string offset outside .dynstr");
            int start = (int)(strtab.Offset + offset);
            int end = Array.IndexOf(image, (byte)0, start, (int)(strtab.Size - offset));
            if (end < 0) throw new InvalidDataException("unterminated string in .dynstr");
            return Encoding.ASCII.GetString(image, start, end - start);
        }

        private static void CheckInside(byte[] image, Section s, string what) => CheckRange(image, s.Offset, s.Size, what);

        private static void CheckRange(byte[] image, long offset, long size, string what)
        {
            if (offset < 0 || size < 0 || offset + size > image.Length)
                throw new InvalidDataException($"ELF {what} lies outside the file");
        }

        private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
        private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | (ulong)ReadU32(b, o + 4) << 32;

        private static void WriteU32(byte[] b, int o, uint v)
        {
            b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24);
        }
    }

#if !GLIBCXX_COMPAT_NO_TASK
    /// <summary>MSBuild task: patch each given libLibTorchSharp.so when the host's libstdc++ lacks the needed version.</summary>
    public class PatchGlibcxxVersionNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public string FromVersion { get; set; } = "GLIBCXX_3.4.32";

        public string ToVersion { get; set; } = "GLIBCXX_3.4.30";

        /// <summary>Candidate paths of the host's libstdc++; the first that exists is read.</summary>
        public string HostLibStdCxx { get; set; } =
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6;/lib/x86_64-linux-gnu/libstdc++.so.6;/usr/lib64/libstdc++.so.6;/usr/lib/libstdc++.so.6";

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || Files.Length == 0)
                return true;

            string? host = null;
            foreach (var candidate in HostLibStdCxx.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
                if (File.Exists(candidate)) { host = candidate; break; }
            if (host == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "GLIBCXX patch: no host libstdc++ found; nothing to do");
                return true;
            }
            if (ElfVersionNeedPatcher.FileDefinesVersion(host, FromVersion))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"GLIBCXX patch: {host} defines {FromVersion}; nothing to do");
                return true;
            }

            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                try
                {
                    var outcome = ElfVersionNeedPatcher.PatchFile(path, FromVersion, ToVersion);
                    if (outcome == ElfPatchOutcome.Patched)
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"GLIBCXX patch: {path}: {FromVersion} -> {ToVersion}");
                }
                catch (Exception e) when (e is InvalidDataException || e is IOException)
                {
                    Log.LogError($"GLIBCXX patch failed for {path}: {e.Message}");
                    return false;
                }
            }
            return true;
        }
    }
#endif
}
