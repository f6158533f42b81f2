namespace NanoBanana.Emulator;

/// <summary>
/// A 5×7 bitmap font for the labels on the emulator's images: capital letters, digits and common punctuation.
/// Lower case is drawn as upper case, typographic quotes and dashes as plain ones, any other character as '?'.
/// </summary>
internal static class BitmapFont
{
    /// <summary>Glyph width in font pixels.</summary>
    public const int Width = 5;

    /// <summary>Glyph height in font pixels.</summary>
    public const int Height = 7;

    // One glyph per line: the character, a space, then 7 rows of 5 cells ('#' ink, '.' none) separated by spaces.
    private const string Glyphs = """
        A .###. #...# #...# ##### #...# #...# #...#
        B ####. #...# #...# ####. #...# #...# ####.
        C .###. #...# #.... #.... #.... #...# .###.
        D ####. #...# #...# #...# #...# #...# ####.
        E ##### #.... #.... ####. #.... #.... #####
        F ##### #.... #.... ####. #.... #.... #....
        G .###. #...# #.... #.### #...# #...# .####
        H #...# #...# #...# ##### #...# #...# #...#
        I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
        J ..### ...#. ...#. ...#. ...#. #..#. .##..
        K #...# #..#. #.#.. ##... #.#.. #..#. #...#
        L #.... #.... #.... #.... #.... #.... #####
        M #...# ##.## #.#.# #.#.# #...# #...# #...#
        N #...# #...# ##..# #.#.# #..## #...# #...#
        O .###. #...# #...# #...# #...# #...# .###.
        P ####. #...# #...# ####. #.... #.... #....
        Q .###. #...# #...# #...# #.#.# #..#. .##.#
        R ####. #...# #...# ####. #.#.. #..#. #...#
        S .#### #.... #.... .###. ....# ....# ####.
        T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
        U #...# #...# #...# #...# #...# #...# .###.
        V #...# #...# #...# #...# #...# .#.#. ..#..
        W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
        X #...# #...# .#.#. ..#.. .#.#. #...# #...#
        Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
        Z ##### ....# ...#. ..#.. .#... #.... #####
        0 .###. #...# #..## #.#.# ##..# #...# .###.
        1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
        2 .###. #...# ....# ...#. ..#.. .#... #####
        3 ##### ...#. ..#.. ...#. ....# #...# .###.
        4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
        5 ##### #.... ####. ....# ....# #...# .###.
        6 ..##. .#... #.... ####. #...# #...# .###.
        7 ##### ....# ...#. ..#.. .#... .#... .#...
        8 .###. #...# #...# .###. #...# #...# .###.
        9 .###. #...# #...# .#### ....# ...#. .##..
        . ..... ..... ..... ..... ..... .##.. .##..
        , ..... ..... ..... ..... .##.. ..#.. .#...
        : ..... .##.. .##.. ..... .##.. .##.. .....
        ; ..... .##.. .##.. ..... .##.. ..#.. .#...
        - ..... ..... ..... ##### ..... ..... .....
        + ..... ..#.. ..#.. ##### ..#.. ..#.. .....
        = ..... ..... ##### ..... ##### ..... .....
        / ..... ....# ...#. ..#.. .#... #.... .....
        _ ..... ..... ..... ..... ..... ..... #####
        ? .###. #...# ....# ...#. ..#.. ..... ..#..
        ! ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..
        ' ..#.. ..#.. .#... ..... ..... ..... .....
        " .#.#. .#.#. ..... ..... ..... ..... .....
        ( ...#. ..#.. .#... .#... .#... ..#.. ...#.
        ) .#... ..#.. ...#. ...#. ...#. ..#.. .#...
        # .#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.
        % ##... ##..# ...#. ..#.. .#... #..## ...##
        $ ..#.. .#### #.#.. .###. ..#.# ####. ..#..
        * ..... ..#.. #.#.# .###. #.#.# ..#.. .....
        & .##.. #..#. #.#.. .#... #.#.# #..#. .##.#
        @ .###. #...# #.### #.#.# #.### #.... .####
        """;

    // Bit (row * Width + column) set where the glyph has ink, for ASCII 32..126.
    private static readonly ulong[] Table = Build();

    /// <summary>Whether the font draws ink at (column, row) of character <paramref name="c"/>.</summary>
    public static bool Ink(char c, int column, int row)
    {
        var bits = Table[Index(c)];
        return (bits >> ((row * Width) + column) & 1) != 0;
    }

    private static int Index(char c)
    {
        c = c switch
        {
            '\u2018' or '\u2019' => '\'',
            '\u201C' or '\u201D' => '"',
            '\u2013' or '\u2014' => '-',
            _ => char.ToUpperInvariant(c),
        };
        if (c == ' ')
        {
            return 0;
        }

        return c is > ' ' and <= '~' && Table[c - ' '] != 0 ? c - ' ' : '?' - ' ';
    }

    private static ulong[] Build()
    {
        var table = new ulong[95];
        foreach (var line in Glyphs.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var rows = line[2..].Split(' ');
            ulong bits = 0;
            for (var row = 0; row < Height; row++)
            {
                for (var column = 0; column < Width; column++)
                {
                    if (rows[row][column] == '#')
                    {
                        bits |= 1UL << ((row * Width) + column);
                    }
                }
            }

            table[line[0] - ' '] = bits;
        }

        return table;
    }
}
