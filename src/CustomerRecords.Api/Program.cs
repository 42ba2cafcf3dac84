using CustomerRecords.Api.Operations;

var builder = WebApplication.CreateBuilder(args);
builder.AddOperations();
var app = builder.Build();
app.MapGet("/", () => "ok");
app.MapOperations();
app.Run();

public partial class Program;
