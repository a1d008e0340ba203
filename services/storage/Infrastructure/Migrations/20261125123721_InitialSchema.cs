using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Finstage.Storage.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "articles",
                columns: table => new
                {
                    id = table.Column<byte[]>(type: "binary(16)", nullable: false),
                    url = table.Column<string>(type: "varchar(2048)", maxLength: 2048, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    source = table.Column<string>(type: "varchar(32)", maxLength: 32, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    title = table.Column<string>(type: "varchar(1000)", maxLength: 1000, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    summary = table.Column<string>(type: "mediumtext", nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    author = table.Column<string>(type: "varchar(256)", maxLength: 256, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    publisher = table.Column<string>(type: "varchar(256)", maxLength: 256, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    image_url = table.Column<string>(type: "varchar(2048)", maxLength: 2048, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    external_id = table.Column<string>(type: "varchar(512)", maxLength: 512, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    published_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: true),
                    sort_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false),
                    first_seen_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false),
                    last_seen_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_articles", x => x.id);
                })
                .Annotation("MySql:CharSet", "utf8mb4")
                .Annotation("Relational:Collation", "utf8mb4_unicode_ci");

            migrationBuilder.CreateTable(
                name: "crawl_runs",
                columns: table => new
                {
                    crawl_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    cycle_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    source = table.Column<string>(type: "varchar(32)", maxLength: 32, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    symbol = table.Column<string>(type: "varchar(128)", maxLength: 128, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    status = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    new_articles = table.Column<int>(type: "int", nullable: false),
                    seen_articles = table.Column<int>(type: "int", nullable: false),
                    http_status = table.Column<int>(type: "int", nullable: true),
                    failure_reason = table.Column<string>(type: "varchar(32)", maxLength: 32, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    failure_detail = table.Column<string>(type: "varchar(2000)", maxLength: 2000, nullable: true, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    attempts = table.Column<int>(type: "int", nullable: true),
                    duration_ms = table.Column<int>(type: "int", nullable: true),
                    finished_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false),
                    recorded_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_crawl_runs", x => x.crawl_id);
                })
                .Annotation("MySql:CharSet", "utf8mb4")
                .Annotation("Relational:Collation", "utf8mb4_unicode_ci");

            migrationBuilder.CreateTable(
                name: "article_symbols",
                columns: table => new
                {
                    article_id = table.Column<byte[]>(type: "binary(16)", nullable: false),
                    symbol = table.Column<string>(type: "varchar(128)", maxLength: 128, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    sort_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false),
                    first_seen_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_article_symbols", x => new { x.article_id, x.symbol });
                    table.ForeignKey(
                        name: "FK_article_symbols_articles_article_id",
                        column: x => x.article_id,
                        principalTable: "articles",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("MySql:CharSet", "utf8mb4")
                .Annotation("Relational:Collation", "utf8mb4_unicode_ci");

            migrationBuilder.CreateIndex(
                name: "ix_article_symbols_symbol_sort",
                table: "article_symbols",
                columns: new[] { "symbol", "sort_at", "article_id" });

            migrationBuilder.CreateIndex(
                name: "ix_articles_sort",
                table: "articles",
                columns: new[] { "sort_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_articles_source_sort",
                table: "articles",
                columns: new[] { "source", "sort_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_crawl_runs_cycle",
                table: "crawl_runs",
                column: "cycle_id");

            migrationBuilder.CreateIndex(
                name: "ix_crawl_runs_finished",
                table: "crawl_runs",
                columns: new[] { "finished_at", "crawl_id" });

            migrationBuilder.CreateIndex(
                name: "ix_crawl_runs_source_finished",
                table: "crawl_runs",
                columns: new[] { "source", "finished_at" });

            migrationBuilder.CreateIndex(
                name: "ix_crawl_runs_symbol_finished",
                table: "crawl_runs",
                columns: new[] { "symbol", "finished_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "article_symbols");

            migrationBuilder.DropTable(
                name: "crawl_runs");

            migrationBuilder.DropTable(
                name: "articles");
        }
    }
}
