using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>Issue 9 §1 over HTTP: a write that fails inside the store leaves the resource readable and the file in step.</summary>
public sealed class FailedWriteTests
{
    [Fact]
    public async Task A_priority_beyond_double_range_changes_nothing_in_memory_or_on_disk()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fanfare-failed-write-" + Path.GetRandomFileName());
        void OnDisk(Fanfare.Emulator.Hosting.EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir; }
        try
        {
            string id;
            await using (var emu = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = HttpClientExtensions.Sk((await emu.DemoOrgAsync()).SecretKey);
                id = (await emu.Admin.PostRawAsync("/sequences", """{"name":"Fragile","priority":3}""", sk)).EnsureStatus(200)["id"].GetValue<string>();
                var bad = await emu.Admin.SendAsync(HttpMethod.Put, $"/sequences/{id}",
                    new StringContent("""{"name":"Broken","priority":1e309}""", System.Text.Encoding.UTF8, "application/json"), sk);
                Assert.NotInRange(bad.Code, 200, 299); // 400 once the input layer refuses it; never a half-applied change

                var one = (await emu.Admin.GetAsync($"/sequences/{id}", sk)).EnsureStatus(200);
                Assert.Equal("Fragile", one["name"].GetValue<string>());
                Assert.Equal(3, one["priority"].GetValue<double>());
                (await emu.Admin.GetAsync("/sequences", sk)).EnsureStatus(200);
            }
            await using (var again = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = HttpClientExtensions.Sk((await again.DemoOrgAsync()).SecretKey);
                var one = (await again.Admin.GetAsync($"/sequences/{id}", sk)).EnsureStatus(200);
                Assert.Equal("Fragile", one["name"].GetValue<string>());
                Assert.Equal(3, one["priority"].GetValue<double>());
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
